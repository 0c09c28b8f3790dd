/**
 * What the Domino and Active Directory agents share: paged streaming import, and add / modify /
 * rename / delete over LDAP. The subclasses say what their directory's objects look like.
 */
import { Attribute, Change, type Client, type Control, type Entry } from 'ldapts';
import type { DirectoryResultCode } from '../../model/problems.js';
import type { DeltaStrategyName, LdapAgentConfig } from './config.js';
import { isWithin, parseDn, sameDn } from '../../util/dn.js';
import {
  type Agent,
  type AgentCheck,
  type AnchorPage,
  DeltaUnavailableError,
  type ExportOperation,
  type ExportResult,
  type ImportPage,
  IncompleteReadError,
  ObjectError,
  ServerDownError,
  TransientError,
} from '../types.js';
import { type AttributeMap, type ConnectorObject } from '../../model/objects.js';
import { type ConnectionSettings, connect, isConnectionFailure } from './connection.js';
import { checkLdapAgent } from './check.js';
import { isLimitResult, isNoSuchObject, isRefusal, isTimeLimit, isTransientResult, isNoSuchValue, isValueAlreadyThere } from './results.js';
import { AccesslogStrategy } from './delta/accesslog.js';
import { TimestampStrategy } from './delta/timestamp.js';
import type { DeltaStrategy, LdapView } from './delta/types.js';
import { anchorOf, entryToObject, type EntryMapping, valuesOf } from './entry.js';
import { completeRanges, rangedRequest } from './ranged.js';
import { valueBatches } from '../value-batches.js';

const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';
const GUID_ATTRIBUTES = new Set(['objectguid', 'msexchmailboxguid']);
export abstract class LdapAgent implements Agent, LdapView {
  readonly anchorAttribute: string;
  protected client: Client | undefined;
  readonly mapping: EntryMapping;
  private paging: boolean | undefined;
  private context: string | undefined;
  private chosen: DeltaStrategy | undefined;
  /** The connection a request failed on; reconnect() replaces it only while it is still the current one. */
  private failed: Client | undefined;
  private reconnecting: Promise<void> | undefined;
  /** Lower-case names of the attributes read with ranged retrieval. */
  private readonly ranged: ReadonlySet<string>;

  constructor(
    readonly name: string,
    readonly config: LdapAgentConfig,
    private readonly settings: ConnectionSettings,
  ) {
    this.anchorAttribute = config.anchor.toLowerCase();
    const binary = new Set(config.binaryAttributes.map((a) => a.toLowerCase()));
    this.mapping = { anchor: config.anchor, binary, guids: new Set([...binary].filter((a) => GUID_ATTRIBUTES.has(a))) };
    this.ranged = new Set((config.rangedAttributes ?? (config.type === 'ad-ldap' ? ['member'] : [])).map((a) => a.toLowerCase()));
  }

  /** Object classes of a new object when the provisioning rule names none. */
  protected abstract defaultObjectClasses(): string[];
  /** Directory-specific completion and checks of a new object (throws ObjectError). */
  protected abstract prepareAdd(dn: string, objectClasses: readonly string[], attributes: AttributeMap): AttributeMap;
  /** Extra advice for a refused write (e.g. Domino's LDAP write switch). */
  protected writeRefusedHint(): string {
    return "check the bind account's rights on the target container";
  }

  async open(): Promise<void> {
    this.client = await connect(this.settings);
    this.paging = undefined;
    this.context = undefined;
  }

  async reconnect(): Promise<void> {
    if (this.reconnecting) return this.reconnecting;
    if (this.client && this.failed !== this.client) return; // already replaced by a concurrent caller
    this.reconnecting = (async () => {
      await this.close();
      await this.open();
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  /** Remembers that the current connection broke, so the next reconnect() replaces it. */
  private noteFailure(e: unknown, client: Client | undefined): void {
    if (e instanceof ServerDownError || isConnectionFailure(e)) this.failed = client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.unbind().catch(() => undefined);
  }

  /** ConnId's TestOp: what the config relies on, looked for in the directory (see check.ts). */
  test(): Promise<AgentCheck[]> {
    return checkLdapAgent(this);
  }

  get ldap(): Client {
    if (!this.client) throw new Error(`agent "${this.name}" is not open`);
    return this.client;
  }

  importAttributes(): string[] {
    return [...new Set([...this.config.attributes, this.config.anchor, 'objectClass'])];
  }

  private async supportsPaging(): Promise<boolean> {
    if (this.paging !== undefined) return this.paging;
    // Domino does not document its controls: ask the root DSE instead of assuming.
    try {
      this.paging = valuesOf((await this.rootDse(['supportedControl'])).supportedControl)
        .map(String)
        .includes(PAGED_RESULTS_OID);
    } catch (e) {
      if (isConnectionFailure(e)) throw e;
      this.paging = false;
    }
    return this.paging;
  }

  async rootDse(attributes: string[]): Promise<Entry> {
    const { searchEntries } = await this.ldap.search('', { scope: 'base', filter: '(objectClass=*)', attributes });
    return searchEntries[0] ?? { dn: '' };
  }

  async *search(
    base: string,
    filter: string,
    attributes: string[],
    options: { scope?: 'base' | 'one' | 'sub'; controls?: Control[] } = {},
  ): AsyncIterable<Entry[]> {
    const scope = options.scope ?? 'sub';
    const ranged = attributes.some((a) => this.ranged.has(a.toLowerCase()));
    const asked = ranged ? rangedRequest(attributes, this.ranged, this.config.rangeSize) : attributes;
    const request = { scope, filter, attributes: asked, explicitBufferAttributes: this.config.binaryAttributes, timeLimit: 0 } as const;
    if (scope !== 'base' && (await this.supportsPaging())) {
      for await (const page of this.ldap.searchPaginated(base, { ...request, paged: { pageSize: this.config.pageSize } }, options.controls)) {
        yield ranged ? await this.completeRanges(page.searchEntries) : page.searchEntries;
      }
      return;
    }
    const { searchEntries } = await this.ldap.search(base, request, options.controls);
    const entries = ranged ? await this.completeRanges(searchEntries) : searchEntries;
    for (let i = 0; i < entries.length; i += this.config.pageSize) yield entries.slice(i, i + this.config.pageSize);
  }

  /** The rest of each entry's ranged attributes (see ranged.ts), read range by range. */
  async completeRanges(entries: Entry[]): Promise<Entry[]> {
    for (const entry of entries) {
      await completeRanges(entry, this.config.rangeSize, async (dn, attribute) => {
        const { searchEntries } = await this.ldap.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [attribute] });
        return searchEntries[0];
      });
    }
    return entries;
  }

  async *readView(): AsyncIterable<ImportPage> {
    for await (const entries of this.search(this.config.baseDn, this.config.filter, this.importAttributes(), { scope: this.config.searchScope })) {
      yield this.toPage(entries);
    }
  }

  toPage(entries: Entry[]): ImportPage {
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

  inView(dn: string): boolean {
    try {
      return isWithin(dn, this.config.baseDn, this.config.searchScope);
    } catch {
      return false; // a DN we cannot parse is not one of ours
    }
  }

  async namingContext(): Promise<string> {
    if (this.context !== undefined) return this.context;
    const contexts = valuesOf((await this.rootDse(['namingContexts'])).namingContexts).map(String);
    // The longest naming context that holds the base; Domino lists none (its directory is the whole tree).
    const holding = contexts.filter((nc) => nc === '' || isWithin(this.config.baseDn, nc, 'sub')).sort((a, b) => b.length - a.length);
    this.context = holding[0] ?? '';
    return this.context;
  }

  async readObject(dn: string): Promise<ConnectorObject | undefined> {
    if (!this.inView(dn)) return undefined;
    const client = this.client;
    try {
      for await (const entries of this.search(dn, this.config.filter, this.importAttributes(), { scope: 'base' })) {
        const page = this.toPage(entries);
        if (page.errors[0]) throw page.errors[0];
        if (page.objects[0]) return page.objects[0];
      }
      return undefined;
    } catch (e) {
      if (isNoSuchObject(e)) return undefined;
      this.noteFailure(e, client);
      throw this.importError(e, `reading ${dn}`);
    }
  }

  /** The strategy a subclass offers for this name, or undefined when its directory cannot do it. */
  protected deltaStrategy(name: DeltaStrategyName): DeltaStrategy | undefined {
    if (name === 'timestamp') return new TimestampStrategy(this);
    if (name === 'accesslog') return new AccesslogStrategy(this);
    return undefined;
  }

  private get strategy(): DeltaStrategy {
    const name = this.config.delta.strategy;
    this.chosen ??= this.deltaStrategy(name);
    if (!this.chosen)
      throw new Error(`agent "${this.name}": delta.strategy "${name}" needs Active Directory; a ${this.config.type} agent offers timestamp or accesslog`);
    return this.chosen;
  }

  fullImport(): AsyncIterable<ImportPage> {
    return this.guard(() => this.strategy.fullImport(), `full import of ${this.config.baseDn}`);
  }

  deltaImport(watermark: string): AsyncIterable<ImportPage> {
    return this.guard(() => this.strategy.deltaImport(watermark), `delta import (${this.config.delta.strategy}) of ${this.config.baseDn}`);
  }

  get deletionCheck(): { everyMinutes: number } | undefined {
    const { deletions, sweepEveryMinutes } = this.config.delta;
    const sweep = deletions ? deletions === 'sweep' : !this.strategy.seesDeletions;
    return sweep ? { everyMinutes: sweepEveryMinutes } : undefined;
  }

  listAnchors(): AsyncIterable<AnchorPage> {
    return this.guard(() => this.readAnchors(), `deletion check of ${this.config.baseDn}`);
  }

  /**
   * The agent's view (base, scope, filter) asking for the anchor alone: entries of a DN and one value,
   * not converted beyond the anchor. Its cost is set by the directory, which spends about as much per
   * entry as in a full import (slapd: 6.5-8 ms of CPU per 1,000 entries, measured); a reader of its
   * own for the answers was tried and measured no faster, since the client waits for the server.
   */
  private async *readAnchors(): AsyncIterable<AnchorPage> {
    for await (const entries of this.search(this.config.baseDn, this.config.filter, [this.config.anchor], { scope: this.config.searchScope })) {
      const page: AnchorPage = { anchors: [], unreadable: [] };
      for (const entry of entries) {
        const anchor = anchorOf(entry, this.mapping);
        if (anchor === undefined) page.unreadable.push(entry.dn);
        else page.anchors.push(anchor);
      }
      yield page;
    }
  }

  private async *guard<T>(source: () => AsyncIterable<T>, what: string): AsyncIterable<T> {
    const client = this.client;
    try {
      yield* source();
    } catch (e) {
      this.noteFailure(e, client);
      throw this.importError(e, what);
    }
  }

  /** A failed read stops the step: the connector space must not be compared against half an answer. */
  private importError(e: unknown, what: string): Error {
    if (e instanceof ServerDownError || e instanceof DeltaUnavailableError || e instanceof ObjectError || e instanceof TransientError) return e;
    if (isConnectionFailure(e)) return new ServerDownError(this.name, (e as Error).message);
    if (isTransientResult(e)) return new TransientError(this.name, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
    if (isLimitResult(e)) {
      const limit = (e as Error).name;
      return new IncompleteReadError(
        this.name,
        `${what} was cut short by the server's limits (${limit}); nothing was concluded from the partial answer. ${this.limitFix(limit)}`,
      );
    }
    return new ServerDownError(this.name, `${what} failed: ${(e as Error).message}`);
  }

  /** How to lift the limit that cut a search short, in the words of the directories we speak to. */
  private limitFix(limit: string): string {
    const who = this.config.bindDn ?? 'the bind DN';
    if (limit === 'TimeLimitExceededError') {
      return `Lift the search time limit for the bind account (OpenLDAP: limits dn.exact="${who}" time=unlimited; Domino: the LDAP "Timeout" in the Configuration Settings document; AD: MaxQueryDuration)`;
    }
    return (
      `Lift the size limit for the bind account (OpenLDAP: limits dn.exact="${who}" size=unlimited, on every database searched, the access log included; ` +
      `Domino: "Maximum number of entries returned" in the Configuration Settings document, LDAP tab; AD: MaxPageSize) or set pageSize below the server's limit`
    );
  }

  async exportObject(op: ExportOperation): Promise<ExportResult> {
    const client = this.client;
    try {
      if (op.kind === 'add') return await this.add(op.dn, op.objectClasses, op.attributes);
      if (op.kind === 'delete') {
        try {
          await this.ldap.del(op.dn);
        } catch (e) {
          if (!isNoSuchObject(e)) throw e; // already gone is what we wanted
        }
        return { dn: op.dn };
      }
      let dn = op.dn;
      if (op.newDn && !sameDn(op.newDn, op.dn)) {
        await this.ldap.modifyDN(op.dn, op.newDn);
        dn = op.newDn;
      }
      const changes = Object.entries(op.changes).map(([type, values]) => new Change({ operation: 'replace', modification: new Attribute({ type, values }) }));
      if (changes.length) await this.ldap.modify(dn, changes);
      for (const [type, delta] of Object.entries(op.valueChanges ?? {})) await this.writeValues(dn, type, delta);
      return { dn };
    } catch (e) {
      this.noteFailure(e, client);
      throw this.toExportError(op, e);
    }
  }

  private async add(dn: string, objectClasses: string[], attributes: AttributeMap): Promise<ExportResult> {
    const classes = objectClasses.length ? objectClasses : this.defaultObjectClasses();
    const complete = this.prepareAdd(dn, classes, attributes);
    const entry: Record<string, string[]> = { objectClass: classes };
    // A list longer than one write may carry (a group of 5,000 members) goes in with its first batch;
    // the rest follows as values added, batch by batch.
    const rest: Record<string, string[]> = {};
    const batch = this.config.valueBatchSize;
    for (const [k, v] of Object.entries(complete)) {
      if (!v.length) continue;
      entry[k] = v.slice(0, batch);
      if (v.length > batch) rest[k] = v.slice(batch);
    }
    await this.ldap.add(dn, entry);
    for (const [type, values] of Object.entries(rest)) await this.writeValues(dn, type, { add: values, remove: [] });
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

  /**
   * Values added to and removed from one attribute, in batches (see valueBatches), never a replace of
   * the whole list. A batch the directory refuses because one of its values is already there (added
   * by someone else meanwhile) or already gone is written again value by value, so that value does
   * not fail the others: either way the directory ends as wanted.
   */
  private async writeValues(dn: string, type: string, delta: { add: string[]; remove: string[] }): Promise<void> {
    for (const b of valueBatches(delta, this.config.valueBatchSize)) {
      const change = (values: string[]): Change => new Change({ operation: b.operation, modification: new Attribute({ type, values }) });
      const asWanted = b.operation === 'add' ? isValueAlreadyThere : isNoSuchValue;
      try {
        await this.ldap.modify(dn, [change(b.values)]);
      } catch (e) {
        if (!asWanted(e)) throw e;
        for (const value of b.values) {
          try {
            await this.ldap.modify(dn, [change([value])]);
          } catch (e2) {
            if (!asWanted(e2)) throw e2;
          }
        }
      }
    }
  }

  private toExportError(op: ExportOperation, e: unknown): Error {
    if (e instanceof ObjectError || e instanceof ServerDownError) return e;
    const err = e as Error & { code?: unknown };
    if (isConnectionFailure(e)) return new ServerDownError(this.name, err.message);
    if (isTransientResult(e) || isTimeLimit(e)) return new TransientError(this.name, `${op.kind} ${op.dn}: ${err.name}: ${err.message}`);
    const attribute = /attribute[^"']*["']?([A-Za-z][A-Za-z0-9-]*)/i.exec(err.message)?.[1];
    const hint = isRefusal(e) ? `; ${this.writeRefusedHint()}` : '';
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

/** The code of a refused write, from ldapts's error class: ConstraintViolationError -> constraint-violation. */
function ldapErrorCode(name: string): DirectoryResultCode {
  const code = name
    .replace(/Error$/, '')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase();
  return (code || 'ldap-error') as DirectoryResultCode;
}
