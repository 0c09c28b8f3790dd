/**
 * Delta by update sequence number: objects whose uSNChanged is above the highestCommittedUSN read
 * before the previous import. USNs are local to one domain controller and are not replicated, so the
 * watermark names the DC (dsServiceName) and its invocationID; another DC, or the same one restored
 * from a backup, means a full import. Deleted objects are found with the Show Deleted control.
 */
import { Control, type Entry } from 'ldapts';
import { guidToString } from '../../util/guid.js';
import { DeltaUnavailableError, type GoneObject, type ImportPage } from '../types.js';
import type { DeltaStrategy, LdapView } from '../ldap/delta/types.js';
import { decodeWatermark, encodeWatermark } from '../ldap/delta/watermark.js';
import { valuesOf } from '../ldap/entry.js';
import { SHOW_DELETED_OID } from './dirsync-control.js';

interface UsnWatermark {
  usn: string;
  dsServiceName: string;
  invocationId: string;
}

export class UsnStrategy implements DeltaStrategy {
  readonly seesDeletions = true;
  constructor(private readonly view: LdapView) {}

  async *fullImport(): AsyncIterable<ImportPage> {
    // Read before the search: a change made during the import is above it and read again next time.
    const state = await this.controllerState();
    yield* this.view.readView();
    yield { objects: [], errors: [], watermark: encodeWatermark('usn', { ...state }) };
  }

  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    const { view } = this;
    const wm = decodeWatermark<UsnWatermark>(view.name, 'usn', watermark);
    const state = await this.controllerState();
    if (state.dsServiceName.toLowerCase() !== wm.dsServiceName.toLowerCase()) {
      throw new DeltaUnavailableError(
        view.name,
        `the watermark's USN belongs to domain controller ${wm.dsServiceName}, this one is ${state.dsServiceName} (USNs are not replicated)`,
      );
    }
    if (state.invocationId !== wm.invocationId || BigInt(state.usn) < BigInt(wm.usn)) {
      throw new DeltaUnavailableError(
        view.name,
        `domain controller ${state.dsServiceName} changed its invocationID or went back in USN (restored from a backup?)`,
      );
    }
    const from = (BigInt(wm.usn) + 1n).toString();
    const nc = await view.namingContext();
    for await (const entries of view.search(nc, `(&${view.config.filter}(uSNChanged>=${from}))`, view.importAttributes())) {
      const page = view.toPage(entries.filter((e) => view.inView(e.dn)));
      page.gone = this.anchors(entries.filter((e) => !view.inView(e.dn)));
      yield page;
    }
    for await (const entries of view.search(view.config.baseDn, `(&(!${view.config.filter})(uSNChanged>=${from}))`, [view.config.anchor], {
      scope: view.config.searchScope,
    })) {
      yield { objects: [], errors: [], gone: this.anchors(entries) };
    }
    const deleted = `(&(isDeleted=TRUE)(uSNChanged>=${from}))`;
    for await (const entries of view.search(nc, deleted, [view.config.anchor], { controls: [new Control(SHOW_DELETED_OID)] })) {
      yield { objects: [], errors: [], gone: this.anchors(entries) };
    }
    yield { objects: [], errors: [], watermark: encodeWatermark('usn', { ...state }) };
  }

  private anchors(entries: Entry[]): GoneObject[] {
    return this.view.toPage(entries).objects.map((o) => ({ anchor: o.anchor }));
  }

  private async controllerState(): Promise<UsnWatermark> {
    const { view } = this;
    const dse = await view.rootDse(['highestCommittedUSN', 'dsServiceName']);
    const usn = String(dse.highestCommittedUSN ?? '');
    const dsServiceName = String(dse.dsServiceName ?? '');
    if (!/^\d+$/.test(usn) || !dsServiceName)
      throw new Error(
        `the server at ${view.config.url} reports no highestCommittedUSN / dsServiceName; it is not Active Directory (choose delta.strategy: timestamp)`,
      );
    const { searchEntries } = await view.ldap.search(dsServiceName, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['invocationId'],
      explicitBufferAttributes: ['invocationId'],
    });
    const bytes = valuesOf(searchEntries[0]?.invocationId)[0];
    if (!Buffer.isBuffer(bytes) || bytes.length !== 16) throw new Error(`cannot read the invocationID of ${dsServiceName}`);
    return { usn, dsServiceName, invocationId: guidToString(bytes) };
  }
}
