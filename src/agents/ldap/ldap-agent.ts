/**
 * What the Domino and Active Directory agents share: paged streaming import, and add / modify /
 * rename / delete over LDAP. The subclasses say what their directory's objects look like.
 */
import { Attribute, Change, type Client, type Entry } from 'ldapts';
import type { LdapAgentConfig } from '../../config/schema.js';
import { parseDn, sameDn } from '../../util/dn.js';
import { type Agent, type AttributeMap, type Capability, type ConnectorObject, type ExportOperation, type ExportResult, type ImportPage, ObjectError, ServerDownError } from '../types.js';
import { type ConnectionSettings, connect, isConnectionFailure } from './connection.js';
import { entryToObject, type EntryMapping } from './entry.js';

const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';
const GUID_ATTRIBUTES = new Set(['objectguid', 'msexchmailboxguid']);

export abstract class LdapAgent implements Agent {
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['full-import', 'export-add', 'export-modify', 'export-delete', 'export-rename']);
  readonly anchorAttribute: string;
  protected client: Client | undefined;
  protected readonly mapping: EntryMapping;

  constructor(
    readonly name: string,
    protected readonly config: LdapAgentConfig,
    private readonly settings: ConnectionSettings,
  ) {
    this.anchorAttribute = config.anchor.toLowerCase();
    const binary = new Set(config.binaryAttributes.map((a) => a.toLowerCase()));
    this.mapping = { anchor: config.anchor, binary, guids: new Set([...binary].filter((a) => GUID_ATTRIBUTES.has(a))) };
  }

  /** Object classes of a new object when the provisioning rule names none. */
  protected abstract defaultObjectClasses(): string[];
  /** Directory-specific completion and checks of a new object (throws ObjectError). */
  protected abstract prepareAdd(dn: string, attributes: AttributeMap): AttributeMap;
  /** Extra advice for a refused write (e.g. Domino's LDAP write switch). */
  protected writeRefusedHint(): string {
    return 'check the bind account\'s rights on the target container';
  }

  async open(): Promise<void> {
    this.client = await connect(this.settings);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.unbind().catch(() => undefined);
  }

  protected get ldap(): Client {
    if (!this.client) throw new Error(`agent "${this.name}" is not open`);
    return this.client;
  }

  private readAttributes(): string[] {
    const set = new Set([...this.config.attributes, this.config.anchor, 'objectClass']);
    return [...set];
  }

  private async supportsPaging(): Promise<boolean> {
    // Domino does not document its controls: ask the root DSE instead of assuming.
    try {
      const { searchEntries } = await this.ldap.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['supportedControl'] });
      const controls = searchEntries[0]?.supportedControl;
      const list = Array.isArray(controls) ? controls : controls ? [controls] : [];
      return list.map(String).includes(PAGED_RESULTS_OID);
    } catch (e) {
      if (isConnectionFailure(e)) throw new ServerDownError(this.name, (e as Error).message);
      return false;
    }
  }

  async *fullImport(): AsyncIterable<ImportPage> {
    const options = {
      scope: this.config.searchScope,
      filter: this.config.filter,
      attributes: this.readAttributes(),
      explicitBufferAttributes: this.config.binaryAttributes,
      timeLimit: 0,
    } as const;
    try {
      if (await this.supportsPaging()) {
        for await (const page of this.ldap.searchPaginated(this.config.baseDn, { ...options, paged: { pageSize: this.config.pageSize } })) {
          yield this.toPage(page.searchEntries);
        }
      } else {
        const { searchEntries } = await this.ldap.search(this.config.baseDn, options);
        for (let i = 0; i < searchEntries.length; i += this.config.pageSize) yield this.toPage(searchEntries.slice(i, i + this.config.pageSize));
      }
    } catch (e) {
      if (e instanceof ServerDownError) throw e;
      if (isConnectionFailure(e)) throw new ServerDownError(this.name, (e as Error).message);
      throw new ServerDownError(this.name, `search of ${this.config.baseDn} failed: ${(e as Error).message}`);
    }
  }

  private toPage(entries: Entry[]): ImportPage {
    const page: ImportPage = { objects: [], errors: [] };
    for (const entry of entries) {
      try {
        page.objects.push(entryToObject(entry, this.mapping));
      } catch (e) {
        if (e instanceof ObjectError) page.errors.push(e);
        else throw e;
      }
    }
    return page;
  }

  async exportObject(op: ExportOperation): Promise<ExportResult> {
    try {
      if (op.kind === 'add') return await this.add(op.dn, op.objectClasses, op.attributes);
      if (op.kind === 'delete') {
        try {
          await this.ldap.del(op.dn);
        } catch (e) {
          if ((e as Error).name !== 'NoSuchObjectError') throw e; // already gone is what we wanted
        }
        return { dn: op.dn };
      }
      let dn = op.dn;
      if (op.newDn && !sameDn(op.newDn, op.dn)) {
        await this.ldap.modifyDN(op.dn, op.newDn);
        dn = op.newDn;
      }
      const changes = Object.entries(op.changes).map(
        ([type, values]) => new Change({ operation: 'replace', modification: new Attribute({ type, values }) }),
      );
      if (changes.length) await this.ldap.modify(dn, changes);
      return { dn };
    } catch (e) {
      throw this.toExportError(op, e);
    }
  }

  private async add(dn: string, objectClasses: string[], attributes: AttributeMap): Promise<ExportResult> {
    const complete = this.prepareAdd(dn, attributes);
    const entry: Record<string, string[]> = { objectClass: objectClasses.length ? objectClasses : this.defaultObjectClasses() };
    for (const [k, v] of Object.entries(complete)) if (v.length) entry[k] = v;
    await this.ldap.add(dn, entry);
    // The directory assigns the anchor (objectGUID, UNID, entryUUID): read it back at once.
    const { searchEntries } = await this.ldap.search(dn, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: [this.config.anchor],
      explicitBufferAttributes: this.config.binaryAttributes,
    });
    const back = searchEntries[0];
    let anchor: string | undefined;
    if (back) {
      try {
        anchor = entryToObject(back, this.mapping).anchor;
      } catch {
        anchor = undefined; // the confirming import will find it by DN
      }
    }
    return { dn, ...(anchor ? { anchor } : {}) };
  }

  private toExportError(op: ExportOperation, e: unknown): Error {
    if (e instanceof ObjectError || e instanceof ServerDownError) return e;
    const err = e as Error & { code?: unknown };
    if (isConnectionFailure(e)) return new ServerDownError(this.name, err.message);
    const attribute = /attribute[^"']*["']?([A-Za-z][A-Za-z0-9-]*)/i.exec(err.message)?.[1];
    const hint = err.name === 'InsufficientAccessError' || err.name === 'UnwillingToPerformError' ? `; ${this.writeRefusedHint()}` : '';
    const verb = op.kind === 'add' ? 'add' : op.kind === 'delete' ? 'delete' : 'modify';
    return new ObjectError(op.dn, attribute, `${verb} refused by the directory: ${err.name}: ${err.message}${hint}`, ldapErrorCode(err.name));
  }

  /** The first RDN of a DN, for subclasses that need it. */
  protected rdnOf(dn: string): { attribute: string; value: string } {
    const r = parseDn(dn)[0];
    if (!r) throw new ObjectError(dn, undefined, 'empty DN', 'invalid-dn');
    return r;
  }
}

function ldapErrorCode(name: string): string {
  return name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase() || 'ldap-error';
}

export type { ConnectorObject };
