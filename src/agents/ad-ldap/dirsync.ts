/**
 * Delta through Active Directory's DirSync control: the cookie is the watermark. DirSync must search
 * from the naming-context root, so the agent's base and scope are applied here, on the client; an
 * object that moved out of the base leaves the view. After its first round DirSync returns only the
 * attributes that changed, so each changed object is read again in full. Tombstones come back with
 * isDeleted. A rename or move shows only in `name`, so it is always requested. The full import is the agent's paged search, preceded by a DirSync round that only
 * fetches the cookie (objectGUID alone), so a change made during the import is read again, not missed.
 */
import type { Entry } from 'ldapts';
import type { ConnectorObject } from '../../model/objects.js';
import type { GoneObject, ImportPage } from '../types.js';
import { DeltaUnavailableError, ObjectError } from '../types.js';
import { isInsufficientAccess } from '../ldap/results.js';
import type { DeltaStrategy, LdapView } from '../ldap/delta/types.js';
import { decodeWatermark, encodeWatermark } from '../ldap/delta/watermark.js';
import { isConnectionFailure } from '../ldap/connection.js';
import { DIRSYNC_OBJECT_SECURITY, DirSyncControl, SHOW_DELETED_OID } from './dirsync-control.js';
import { Control } from 'ldapts';

interface DirSyncWatermark {
  /** base64 of the server's opaque cookie */
  cookie: string;
  namingContext: string;
}

export class DirSyncStrategy implements DeltaStrategy {
  readonly seesDeletions = true;
  constructor(private readonly view: LdapView) {}

  async *fullImport(): AsyncIterable<ImportPage> {
    const { view } = this;
    const nc = await view.namingContext();
    let cookie: Buffer = Buffer.alloc(0);
    for await (const round of this.rounds(nc, cookie, [view.config.anchor])) cookie = round.cookie;
    yield* view.readView();
    yield { objects: [], errors: [], watermark: encodeWatermark('dirsync', { cookie: cookie.toString('base64'), namingContext: nc }) };
  }

  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    const { view } = this;
    const wm = decodeWatermark<DirSyncWatermark>(view.name, 'dirsync', watermark);
    const nc = await view.namingContext();
    if (nc.toLowerCase() !== wm.namingContext.toLowerCase()) {
      throw new DeltaUnavailableError(view.name, `the watermark belongs to naming context ${wm.namingContext}, the base is now in ${nc}`);
    }
    for await (const round of this.rounds(nc, Buffer.from(wm.cookie, 'base64'), [...view.importAttributes(), 'isDeleted', 'name'])) {
      const page: ImportPage = { objects: [], errors: [], gone: [] };
      for (const entry of round.entries) await this.resolve(entry, page);
      page.watermark = encodeWatermark('dirsync', { cookie: round.cookie.toString('base64'), namingContext: nc });
      yield page;
    }
  }

  /** DirSync rounds until the server says nothing more waits; each round's cookie resumes after it. */
  private async *rounds(nc: string, start: Buffer, attributes: string[]): AsyncIterable<{ entries: Entry[]; cookie: Buffer }> {
    const { view } = this;
    const flags = view.config.delta.objectSecurity ? DIRSYNC_OBJECT_SECURITY : 0;
    let cookie = start;
    for (;;) {
      const control = new DirSyncControl(flags, cookie);
      let entries: Entry[];
      try {
        const result = await view.ldap.search(
          nc,
          { scope: 'sub', filter: view.config.filter, attributes, explicitBufferAttributes: view.config.binaryAttributes, timeLimit: 0 },
          [control, new Control(SHOW_DELETED_OID)],
        );
        entries = result.searchEntries;
      } catch (e) {
        if (isConnectionFailure(e)) throw e;
        if (start.length && cookie === start) {
          throw new DeltaUnavailableError(
            view.name,
            `the domain controller refused the DirSync cookie (expired, or issued by another domain): ${(e as Error).message}`,
          );
        }
        const rights = isInsufficientAccess(e)
          ? '; the bind account needs "Replicating Directory Changes" on the domain, or set delta.objectSecurity: true'
          : '';
        throw new Error(`DirSync search of ${nc} failed: ${(e as Error).message}${rights}`);
      }
      if (!control.answered)
        throw new Error(`the server at ${view.config.url} ignored the DirSync control; it is not Active Directory (choose delta.strategy: usn or timestamp)`);
      cookie = control.cookie;
      yield { entries, cookie };
      if (!control.moreResults) return;
    }
  }

  /** One changed object, read again in full; or gone, when deleted or out of the view. */
  private async resolve(entry: Entry, page: ImportPage): Promise<void> {
    const { view } = this;
    const anchor = this.anchorOf(entry, page);
    if (anchor === undefined) return;
    const deleted = String(entry.isDeleted ?? '').toUpperCase() === 'TRUE';
    let now: ConnectorObject | undefined;
    if (!deleted && view.inView(entry.dn)) {
      try {
        now = await view.readObject(entry.dn);
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
        page.errors.push(e);
        return;
      }
    }
    if (now && now.anchor === anchor) page.objects.push(now);
    else page.gone!.push({ anchor } satisfies GoneObject);
  }

  private anchorOf(entry: Entry, page: ImportPage): string | undefined {
    const minimal = { dn: entry.dn, [this.view.config.anchor]: entry[this.view.config.anchor] ?? entry.objectGUID } as Entry;
    const converted = this.view.toPage([minimal]);
    page.errors.push(...converted.errors);
    return converted.objects[0]?.anchor;
  }
}
