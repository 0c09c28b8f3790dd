/**
 * Delta from OpenLDAP's slapo-accesslog: the log entries (named by reqStart) after the watermark say
 * which entries were written; each is then read as it is now, so a change logged twice is read once
 * and a replayed window changes nothing. The watermark is the reqStart of the last log entry covered;
 * when that entry has been purged, changes may have been lost with it and a full import is needed.
 */
import { escapeDnValue, isWithin, splitRdn } from '../../../util/dn.js';
import { escapeFilterValue } from '../../../util/filter.js';
import { DeltaUnavailableError, type GoneObject, type ImportPage } from '../../types.js';
import { firstText } from '../entry.js';
import { isNoSuchObject, isSizeLimit } from '../results.js';
import type { DeltaStrategy, LdapView } from './types.js';
import { decodeWatermark, encodeWatermark, formatGeneralizedTime } from './watermark.js';

interface AccesslogWatermark {
  /** reqStart of the last log entry covered; null: from the start of the log. */
  after: string | null;
}

interface LogEntry {
  reqStart: string;
  uuid: string;
  dns: string[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export class AccesslogStrategy implements DeltaStrategy {
  readonly seesDeletions = true;
  constructor(private readonly view: LdapView) {}

  private get logBase(): string {
    return this.view.config.delta.accesslogBase;
  }

  async *fullImport(): AsyncIterable<ImportPage> {
    // Read the log's end before the objects: a change made during the import is then read again, never missed.
    const after = await this.newestLogEntry();
    yield* this.view.readView();
    yield { objects: [], errors: [], watermark: encodeWatermark('accesslog', { after }) };
  }

  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    const { view } = this;
    const { after } = decodeWatermark<AccesslogWatermark>(view.name, 'accesslog', watermark);
    if (after !== null && !(await this.logEntryExists(after))) {
      throw new DeltaUnavailableError(
        view.name,
        `the access log ${this.logBase} no longer holds the entry reqStart=${after} the watermark points at (purged by logpurge?); changes since then may be lost`,
      );
    }
    const { byUuid, newest } = await this.changedEntries(after);
    // Read in the order of each entry's last change, so a watermark can be given after every page.
    const order = [...byUuid.values()].sort((a, b) => (a.reqStart < b.reqStart ? -1 : a.reqStart > b.reqStart ? 1 : 0));
    const size = view.config.pageSize;
    let covered = after;
    for (let i = 0; i < order.length; i += size) {
      const chunk = order.slice(i, i + size);
      const page: ImportPage = { objects: [], errors: [], gone: [] };
      for (const change of chunk) await this.resolve(change, page);
      const last = chunk[chunk.length - 1]!.reqStart;
      const next = order[i + size];
      // Safe only when everything not yet read was changed strictly later.
      if (!next || next.reqStart > last) {
        page.watermark = encodeWatermark('accesslog', { after: last });
        covered = last;
      }
      yield page;
    }
    // Writes outside the view (another agent's contacts in the same directory, say) move the watermark
    // too: otherwise every later delta would read them again, and its cost would grow with the log.
    if (newest !== null && (covered === null || newest > covered))
      yield { objects: [], errors: [], gone: [], watermark: encodeWatermark('accesslog', { after: newest }) };
  }

  /** The log entries after the watermark, folded per written entry (by entryUUID), and the newest entry read, in view or not. */
  private async changedEntries(after: string | null): Promise<{ byUuid: Map<string, LogEntry>; newest: string | null }> {
    const { view } = this;
    const filter = `(&(objectClass=auditWriteObject)(reqResult=0)${after ? `(reqStart>=${escapeFilterValue(after)})` : ''})`;
    const byUuid = new Map<string, LogEntry>();
    let newest: string | null = null;
    for await (const entries of view.search(this.logBase, filter, ['reqStart', 'reqDN', 'reqEntryUUID', 'reqNewRDN', 'reqNewSuperior'], { scope: 'one' })) {
      for (const e of entries) {
        const reqStart = firstText(e.reqStart);
        const dn = firstText(e.reqDN);
        if (reqStart === undefined || dn === undefined || reqStart === after) continue;
        if (newest === null || reqStart > newest) newest = reqStart;
        const uuid = firstText(e.reqEntryUUID) ?? '';
        const dns = [dn];
        const newRdn = firstText(e.reqNewRDN);
        if (newRdn !== undefined) {
          const parent = firstText(e.reqNewSuperior) ?? splitRdn(dn).parent;
          dns.push(parent ? `${newRdn},${parent}` : newRdn);
        }
        // Only writes that touched the view (before or after a move) matter to this agent.
        if (!dns.some((d) => this.touchesView(d))) continue;
        const key = uuid || dn;
        const known = byUuid.get(key);
        if (!known) byUuid.set(key, { reqStart, uuid, dns });
        else {
          known.dns.push(...dns);
          if (reqStart > known.reqStart) known.reqStart = reqStart;
        }
      }
    }
    return { byUuid, newest };
  }

  private touchesView(dn: string): boolean {
    try {
      return isWithin(dn, this.view.config.baseDn, this.view.config.searchScope);
    } catch {
      return false;
    }
  }

  /** Reads one written entry as it is now: in view, or gone (with whatever identifies it). */
  private async resolve(change: LogEntry, page: ImportPage): Promise<void> {
    const { view } = this;
    const anchorIsUuid = view.config.anchor.toLowerCase() === 'entryuuid';
    if (change.uuid) {
      const filter = `(&${view.config.filter}(entryUUID=${escapeFilterValue(change.uuid)}))`;
      for await (const entries of view.search(view.config.baseDn, filter, view.importAttributes(), { scope: view.config.searchScope })) {
        const found = view.toPage(entries);
        if (found.objects.length || found.errors.length) {
          page.objects.push(...found.objects);
          page.errors.push(...found.errors);
          return;
        }
      }
    }
    const gone: GoneObject[] = change.dns.map((dn) => ({ dn }));
    if (anchorIsUuid && change.uuid) gone.push({ anchor: change.uuid });
    else if (change.uuid) {
      // Still in the directory but out of view (moved away, or no longer matching the filter): find its anchor.
      for await (const entries of view.search(await view.namingContext(), `(entryUUID=${escapeFilterValue(change.uuid)})`, [view.config.anchor])) {
        for (const o of view.toPage(entries).objects) gone.push({ anchor: o.anchor });
      }
    }
    page.gone!.push(...gone);
  }

  private async logEntryExists(reqStart: string): Promise<boolean> {
    try {
      for await (const entries of this.view.search(`reqStart=${escapeDnValue(reqStart)},${this.logBase}`, '(objectClass=*)', ['reqStart'], { scope: 'base' })) {
        if (entries.length) return true;
      }
      return false;
    } catch (e) {
      if (isNoSuchObject(e)) return false;
      throw e;
    }
  }

  /**
   * The newest log entry. The log has no index that sorts, and reading it in full would cost as much
   * as the writes it records (an export of 200,000 contacts logs 200,000 entries), so the newest is
   * found by narrowing a time window with existence checks that return one entry at most, and only
   * the last second or so of the log is read.
   */
  private async newestLogEntry(): Promise<string | null> {
    const now = Date.now();
    let lo: number | undefined;
    for (const back of [MINUTE, HOUR, DAY, 31 * DAY]) {
      if (await this.logHasEntriesFrom(now - back)) {
        lo = now - back;
        break;
      }
    }
    if (lo === undefined) return this.newestIn('(objectClass=auditWriteObject)'); // nothing in the last month: an old, quiet log
    let hi = now + DAY;
    // The server's clock may be ahead of ours; a day ahead, the window is read as it is.
    if (await this.logHasEntriesFrom(hi)) return this.newestIn(this.fromFilter(lo));
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.logHasEntriesFrom(mid)) lo = mid;
      else hi = mid;
    }
    return this.newestIn(this.fromFilter(lo));
  }

  private fromFilter(ms: number): string {
    return `(&(objectClass=auditWriteObject)(reqStart>=${formatGeneralizedTime(ms)}))`;
  }

  /** Whether the log holds an entry from this time on: asks for one entry at most. */
  private async logHasEntriesFrom(ms: number): Promise<boolean> {
    try {
      const { searchEntries } = await this.view.ldap.search(this.logBase, { scope: 'one', filter: this.fromFilter(ms), attributes: ['1.1'], sizeLimit: 1 });
      return searchEntries.length > 0;
    } catch (e) {
      if (isSizeLimit(e)) return true;
      throw this.unreadableLog(e);
    }
  }

  private async newestIn(filter: string): Promise<string | null> {
    let newest: string | null = null;
    try {
      for await (const entries of this.view.search(this.logBase, filter, ['reqStart'], { scope: 'one' })) {
        for (const e of entries) {
          const s = firstText(e.reqStart);
          if (s !== undefined && (newest === null || s > newest)) newest = s;
        }
      }
    } catch (e) {
      throw this.unreadableLog(e);
    }
    return newest;
  }

  private unreadableLog(e: unknown): unknown {
    if (!isNoSuchObject(e)) return e;
    return new Error(
      `agent "${this.view.name}": the access log ${this.logBase} does not exist or is not readable by the bind account; set delta.accesslogBase, or choose another delta.strategy`,
    );
  }
}
