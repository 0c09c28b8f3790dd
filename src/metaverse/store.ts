/**
 * The metaverse store: connector spaces, metaverse objects, lineage, pending exports, watermarks, run
 * history and the change log, in one SQLite file. This is the only module that writes SQL.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync, renameSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { AttributeMap } from '../model/objects.js';
import { diffAttributes, lookupValues } from '../model/values.js';
import { migrations } from './migrations.js';
import type { CsRow, LinkKind, MvRow, PendingExport, PendingImport, StepRef, StepStats } from '../model/objects.js';
import type { RunProblem } from '../model/problems.js';

/** Which attribute values each agent / object type keeps in the lookup index, and how they are folded. */
export interface IndexPlan {
  /** agent -> index keys; a key is "attribute" or "attribute#smtp" */
  cs: Map<string, string[]>;
  /** object type -> MV attributes */
  mv: Map<string, string[]>;
}

/** Which of a key's values went and which are new (each list is small: the values of one attribute). */
function valueChanges(before: string[], after: string[]): { gone: string[]; added: string[] } {
  return { gone: before.filter((v) => !after.includes(v)), added: after.filter((v) => !before.includes(v)) };
}

export function indexValues(key: string, attributes: AttributeMap): string[] {
  const [attr, transform] = key.split('#') as [string, string | undefined];
  return lookupValues(attributes[attr.toLowerCase()] ?? attributes[attr], transform === 'smtp' ? 'smtp' : 'none');
}

/** One change-log entry: values before and after, absent ones undefined. */
export interface ChangeLogEntry {
  runId: number | null;
  at: string;
  space: 'mv' | 'cs';
  agent: string | null;
  objectId: number;
  objectRef: string;
  operation: string;
  before: unknown;
  after: unknown;
}

/** The time for a row: the same ISO string is reused within a millisecond (formatting it showed in profiles). */
let lastMs = 0;
let lastIso = '';
const now = (): string => {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
};
const json = (v: unknown): string => JSON.stringify(v);

interface CsDbRow {
  id: number;
  agent: string;
  anchor: string | null;
  dn: string;
  object_classes: string;
  attributes: string;
  pending_import: PendingImport | null;
  provisioned: number;
  owned: number;
  mv_id: number | null;
  link_kind: LinkKind | null;
  linked_run: number | null;
  linked_at: string | null;
}

/**
 * A connector-space row whose image is parsed from JSON only when read: a sync loads every connector
 * of a metaverse object, and most are looked at only for their agent and link.
 */
class LazyCsRow implements CsRow {
  id: number;
  agent: string;
  anchor: string | null;
  dn: string;
  pendingImport: PendingImport | null;
  provisioned: boolean;
  owned: boolean;
  mvId: number | null;
  linkKind: LinkKind | null;
  linkedRun: number | null;
  linkedAt: string | null;
  #classesJson: string | undefined;
  #attributesJson: string | undefined;
  #classes: string[] | undefined;
  #attributes: AttributeMap | undefined;

  constructor(r: CsDbRow) {
    this.id = r.id;
    this.agent = r.agent;
    this.anchor = r.anchor;
    this.dn = r.dn;
    this.pendingImport = r.pending_import;
    this.provisioned = r.provisioned === 1;
    this.owned = r.owned === 1;
    this.mvId = r.mv_id;
    this.linkKind = r.link_kind;
    this.linkedRun = r.linked_run;
    this.linkedAt = r.linked_at;
    this.#classesJson = r.object_classes;
    this.#attributesJson = r.attributes;
  }

  get objectClasses(): string[] {
    this.#classes ??= JSON.parse(this.#classesJson!) as string[];
    return this.#classes;
  }
  set objectClasses(v: string[]) {
    this.#classes = v;
  }
  get attributes(): AttributeMap {
    this.#attributes ??= JSON.parse(this.#attributesJson!) as AttributeMap;
    return this.#attributes;
  }
  set attributes(v: AttributeMap) {
    this.#attributes = v;
  }

  /** Whether this row's stored image is, byte for byte, the JSON of these values (false: cannot tell). */
  storedAs(objectClasses: string[], attributes: AttributeMap): boolean {
    return (
      this.#attributesJson !== undefined &&
      this.#classesJson !== undefined &&
      this.#attributesJson === json(attributes) &&
      this.#classesJson === json(objectClasses)
    );
  }

  /** The fields as a plain object for JSON.stringify, which would miss the image: it sits behind getters, not in own properties (so would a spread). */
  toJSON(): CsRow {
    return {
      id: this.id,
      agent: this.agent,
      anchor: this.anchor,
      dn: this.dn,
      objectClasses: this.objectClasses,
      attributes: this.attributes,
      pendingImport: this.pendingImport,
      provisioned: this.provisioned,
      owned: this.owned,
      mvId: this.mvId,
      linkKind: this.linkKind,
      linkedRun: this.linkedRun,
      linkedAt: this.linkedAt,
    };
  }
}

const toCs = (r: CsDbRow): CsRow => new LazyCsRow(r);

/** True when the row as stored holds exactly these values in this order; false when they differ or it cannot tell. */
export function sameStoredImage(cs: CsRow, objectClasses: string[], attributes: AttributeMap): boolean {
  return cs instanceof LazyCsRow && cs.storedAs(objectClasses, attributes);
}

/** The metaverse file cannot be used as it is; the message names the file, what is wrong and the fix. */
export class StoreUnusableError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    fix: string,
  ) {
    super(`the metaverse ${file} ${problem}; ${fix}. Nothing was changed`);
    this.name = 'StoreUnusableError';
  }

  /** What went wrong opening a store, named; errors that are not about the file pass through. */
  static from(file: string, e: unknown): Error {
    if (e instanceof StoreUnusableError) return e;
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
      return new StoreUnusableError(
        file,
        `is damaged or not a dirbridge store (${(e as Error).message})`,
        'stop the schedule and restore the file from a backup (docs/operations.md: A damaged or lost store)',
      );
    }
    if (code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'EISDIR' || code === 'SQLITE_READONLY') {
      return new StoreUnusableError(
        file,
        `cannot be opened (${code}: ${(e as Error).message})`,
        'check that the path exists and that the account running dirbridge may read and write it',
      );
    }
    return e as Error;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export class Store {
  readonly db: Database.Database;
  private plan: IndexPlan = { cs: new Map(), mv: new Map() };

  /**
   * Statements are prepared once and reused: preparing on every call cost a third of a first setup's
   * time. Each SQL text is used in one way (plucked or not), so caching by text is safe.
   */
  private readonly statements = new Map<string, Database.Statement>();
  private readonly q = {
    prepare: (sql: string): Database.Statement => {
      let stmt = this.statements.get(sql);
      if (!stmt) {
        stmt = this.db.prepare(sql);
        this.statements.set(sql, stmt);
      }
      return stmt;
    },
  };

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /**
   * Opens (creating with mode 0600) and migrates the store. A store that cannot be used (its folder
   * missing, a folder in its place, an empty file where a store was, a file that is not a dirbridge
   * store or is damaged) is refused with a StoreUnusableError that says what to do; nothing is written.
   */
  static open(file: string, options: { readonly?: boolean } = {}): Store {
    try {
      return Store.openChecked(file, options);
    } catch (e) {
      throw StoreUnusableError.from(file, e);
    }
  }

  private static openChecked(file: string, options: { readonly?: boolean }): Store {
    if (file !== ':memory:') {
      const there = statOrUndefined(file);
      if (there?.isDirectory()) throw new StoreUnusableError(file, 'is a folder, not a metaverse file', 'set metaverse.file to a file path');
      // dirbridge creates and migrates a store in one go: an empty file is one whose content was lost.
      if (there && there.size === 0)
        throw new StoreUnusableError(
          file,
          'is empty: the store that was here has lost its content (history, lineage and watermarks)',
          'restore it from a backup (docs/operations.md: A damaged or lost store); if this is a new installation, delete the empty file',
        );
      if (!there && !options.readonly) {
        if (!statOrUndefined(dirname(file))?.isDirectory())
          throw new StoreUnusableError(
            file,
            `cannot be created: the folder ${dirname(file)} does not exist`,
            'create the folder, or set metaverse.file to a path in one',
          );
        Store.create(file);
      }
      if (!options.readonly) chmodSync(file, 0o600);
    }
    return Store.connect(file, options);
  }

  /**
   * A new store, made whole under another name and renamed into place: a process killed while it is
   * made leaves that other file, never an empty or half-made store under the real name (which the
   * next run would have to refuse as a lost one).
   */
  private static create(file: string): void {
    const making = `${file}.new-${process.pid}`;
    // Created by us first, so that it never exists, even briefly, with the umask's wider mode.
    closeSync(openSync(making, 'w', 0o600));
    const store = Store.connect(making, {});
    store.close(); // the last connection checkpoints the write-ahead log into the file and removes it
    renameSync(making, file);
  }

  private static connect(file: string, options: { readonly?: boolean }): Store {
    const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // A checkpoint copies the log into the database and waits for the disk twice; at SQLite's default
      // (every 1,000 pages, 4 MB) a 100,000-object full import spent a quarter of its time there.
      // Every 10,000 pages keeps the log under about 40 MB and makes those waits ten times rarer.
      db.pragma('wal_autocheckpoint = 10000');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const store = new Store(db);
    if (!options.readonly) store.migrate();
    return store;
  }

  close(): void {
    this.db.close();
  }

  schemaVersion(): number {
    const has = this.q.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").get();
    if (!has) return 0;
    const row = this.q.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = this.schemaVersion();
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (current > latest) throw new Error(`the store has schema version ${current}, newer than this dirbridge understands (${latest}); upgrade dirbridge`);
    for (const m of migrations.filter((x) => x.version > current)) {
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.q.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, now());
      })();
    }
  }

  /**
   * The lookup keys the rules need. Writes keep the index by difference (old values out, new ones in),
   * which holds only if the index was built for these keys: when the keys change (a join rule added,
   * say), the index is rebuilt once for every object, here.
   */
  setIndexPlan(plan: IndexPlan): void {
    this.plan = plan;
    const sorted = (m: Map<string, string[]>) => [...m].map(([k, v]) => [k, [...v].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const fingerprint = json({ cs: sorted(plan.cs), mv: sorted(plan.mv) });
    if (this.q.prepare("SELECT value FROM store_setting WHERE key = 'index_plan'").pluck().get() === fingerprint) return;
    this.transaction(() => {
      this.q.prepare('DELETE FROM cs_index').run();
      this.q.prepare('DELETE FROM mv_index').run();
      this.eachImage('cs_object', 'agent', (id, agent, attributes) => this.indexCs(id, agent, undefined, attributes));
      this.eachImage('mv_object', 'object_type', (id, type, attributes) => this.indexMv(id, type, undefined, attributes));
      this.q.prepare("INSERT INTO store_setting (key, value) VALUES ('index_plan', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(fingerprint);
    });
  }

  /**
   * Every row's image of a CS or MV table, in id order, read a thousand at a time: better-sqlite3
   * allows no writes while a statement iterates, and the caller writes index rows as it goes.
   */
  private eachImage(table: 'cs_object' | 'mv_object', owner: 'agent' | 'object_type', fn: (id: number, owner: string, attributes: AttributeMap) => void): void {
    const chunk = 1000;
    for (let last = 0; ;) {
      const rows = this.q.prepare(`SELECT id, ${owner} AS owner, attributes FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(last, chunk) as {
        id: number;
        owner: string;
        attributes: string;
      }[];
      for (const r of rows) fn(r.id, r.owner, JSON.parse(r.attributes) as AttributeMap);
      if (rows.length < chunk) return;
      last = rows[rows.length - 1]!.id;
    }
  }

  /** One wrapper for every transaction (nested calls become savepoints): building one per call showed in profiles. */
  private txWrapper: ((fn: () => unknown) => unknown) | undefined;

  transaction<T>(fn: () => T): T {
    this.txWrapper ??= this.db.transaction((inner: () => unknown) => inner());
    return this.txWrapper(fn) as T;
  }

  // ---- run history -------------------------------------------------------------------------

  /** allowedDeletes: the operator's --allow-deletes for this run, kept in the history. */
  startRun(profile: string, allowedDeletes?: number, configFingerprint?: string): number {
    return Number(
      this.q
        .prepare('INSERT INTO run (profile, started_at, allowed_deletes, config_fingerprint) VALUES (?, ?, ?, ?)')
        .run(profile, now(), allowedDeletes ?? null, configFingerprint ?? null).lastInsertRowid,
    );
  }

  /** Non-provisioned objects of an agent: what a full import is compared against. */
  countImportedCs(agent: string): number {
    return this.q.prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ? AND provisioned = 0').pluck().get(agent) as number;
  }

  /**
   * What SQLite's quick_check finds wrong with the file (none: an empty list). It reads every page, so
   * it costs about a full read of the store: `dirbridge status --integrity` runs it when asked.
   */
  integrityProblems(): string[] {
    try {
      const rows = this.db.pragma('quick_check(20)', { simple: false }) as { quick_check: string }[];
      return rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    } catch (e) {
      return [(e as Error).message];
    }
  }

  /**
   * Runs (and their steps) the history still shows in progress, when no run can be: the caller holds
   * the run lock. They died without recording their end (kill -9, a power cut); they get `status`.
   */
  closeAbandonedRuns(status: string): number {
    return this.transaction(() => {
      // Through the run table (one row per run) and run_step's run index, not a scan of every step.
      this.q
        .prepare(
          "UPDATE run_step SET status = ?, message = COALESCE(message, 'the process ended before the step recorded its end') WHERE run_id IN (SELECT id FROM run WHERE status = 'in-progress') AND status = 'in-progress'",
        )
        .run(status);
      return this.q.prepare("UPDATE run SET status = ? WHERE status = 'in-progress'").run(status).changes;
    });
  }

  finishRun(runId: number, status: string): void {
    this.q.prepare('UPDATE run SET ended_at = ?, status = ? WHERE id = ?').run(now(), status, runId);
  }

  startStep(runId: number, seq: number, agent: string, stepType: string): number {
    return Number(
      this.q.prepare('INSERT INTO run_step (run_id, seq, agent, step_type, started_at) VALUES (?, ?, ?, ?, ?)').run(runId, seq, agent, stepType, now())
        .lastInsertRowid,
    );
  }

  finishStep(stepId: number, status: string, stats: StepStats, message?: string): void {
    this.q
      .prepare('UPDATE run_step SET ended_at = ?, status = ?, stats = ?, message = ? WHERE id = ?')
      .run(now(), status, json(stats), message ?? null, stepId);
  }

  recordError(step: StepRef, e: RunProblem): void {
    this.q
      .prepare('INSERT INTO run_error (run_id, step_id, agent, severity, object, attribute, code, message, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(step.runId, step.stepId, e.agent, e.severity, e.object, e.attribute ?? null, e.code, e.message, now());
  }

  getRun(runId: number): { id: number; profile: string; status: string; startedAt: string; endedAt: string | null } | undefined {
    return this.q.prepare('SELECT id, profile, status, started_at AS startedAt, ended_at AS endedAt FROM run WHERE id = ?').get(runId) as never;
  }

  runSteps(runId: number): {
    id: number;
    seq: number;
    agent: string;
    stepType: string;
    status: string;
    stats: StepStats;
    message: string | null;
    startedAt: string;
    endedAt: string | null;
  }[] {
    const rows = this.q
      .prepare(
        'SELECT id, seq, agent, step_type AS stepType, status, stats, message, started_at AS startedAt, ended_at AS endedAt FROM run_step WHERE run_id = ? ORDER BY seq',
      )
      .all(runId) as { stats: string }[];
    return rows.map((r) => ({ ...r, stats: JSON.parse(r.stats) as StepStats })) as never;
  }

  runErrors(runId: number): (RunProblem & { stepId: number })[] {
    return this.q
      .prepare('SELECT step_id AS stepId, agent, severity, object, attribute, code, message FROM run_error WHERE run_id = ? ORDER BY id')
      .all(runId) as never;
  }

  // ---- change log --------------------------------------------------------------------------

  logChange(
    step: StepRef | undefined,
    space: 'mv' | 'cs',
    agent: string | null,
    objectId: number,
    objectRef: string,
    operation: string,
    before: unknown,
    after: unknown,
  ): void {
    this.logChangeJson(
      step,
      space,
      agent,
      objectId,
      objectRef,
      operation,
      before === undefined ? null : json(before),
      after === undefined ? null : json(after),
    );
  }

  private logChangeJson(
    step: StepRef | undefined,
    space: 'mv' | 'cs',
    agent: string | null,
    objectId: number,
    objectRef: string,
    operation: string,
    before: string | null,
    after: string | null,
  ): void {
    this.q
      .prepare(
        'INSERT INTO change_log (run_id, step_id, space, agent, object_id, object_ref, operation, before, after, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(step?.runId ?? null, step?.stepId ?? null, space, agent, objectId, objectRef, operation, before, after, now());
  }

  /** Every change a run made, in order. */
  changesOfRun(runId: number): ChangeLogEntry[] {
    return this.changeLog('run_id = ?', runId);
  }

  /** Every change of one metaverse or connector-space object, in order. */
  changesOf(space: 'mv' | 'cs', objectId: number): ChangeLogEntry[] {
    return this.changeLog('space = ? AND object_id = ?', space, objectId);
  }

  private changeLog(where: string, ...args: unknown[]): ChangeLogEntry[] {
    const rows = this.q
      .prepare(`SELECT run_id, at, space, agent, object_id, object_ref, operation, before, after FROM change_log WHERE ${where} ORDER BY id`)
      .all(...args) as {
      run_id: number | null;
      at: string;
      space: 'mv' | 'cs';
      agent: string | null;
      object_id: number;
      object_ref: string;
      operation: string;
      before: string | null;
      after: string | null;
    }[];
    return rows.map((r) => ({
      runId: r.run_id,
      at: r.at,
      space: r.space,
      agent: r.agent,
      objectId: r.object_id,
      objectRef: r.object_ref,
      operation: r.operation,
      before: r.before === null ? undefined : JSON.parse(r.before),
      after: r.after === null ? undefined : JSON.parse(r.after),
    }));
  }

  // ---- connector space ---------------------------------------------------------------------

  getCs(id: number): CsRow | undefined {
    const r = this.q.prepare('SELECT * FROM cs_object WHERE id = ?').get(id) as CsDbRow | undefined;
    return r && toCs(r);
  }

  getCsByAnchor(agent: string, anchor: string): CsRow | undefined {
    const r = this.q.prepare('SELECT * FROM cs_object WHERE agent = ? AND anchor = ?').get(agent, anchor) as CsDbRow | undefined;
    return r && toCs(r);
  }

  /** Objects of the agent at this DN (compared by normalized DN key). */
  getCsByDnKey(agent: string, dnKey: string): CsRow[] {
    return (this.q.prepare('SELECT * FROM cs_object WHERE agent = ? AND dn_key = ?').all(agent, dnKey) as CsDbRow[]).map(toCs);
  }

  /**
   * What a full sync of the agent reads: every object except those provisioned and waiting for their
   * first export with no imported change (counted, not listed).
   */
  csIdsForFullSync(agent: string): { waiting: number; others: number[] } {
    // A provisioned object has no anchor yet: the condition lets the count use the anchorless index.
    const waiting = this.q
      .prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ? AND anchor IS NULL AND provisioned = 1 AND pending_import IS NULL')
      .pluck()
      .get(agent) as number;
    const others = waiting
      ? this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND NOT (provisioned = 1 AND pending_import IS NULL) ORDER BY id')
      : this.q.prepare('SELECT id FROM cs_object WHERE agent = ? ORDER BY id');
    return { waiting, others: others.pluck().all(agent) as number[] };
  }

  /** Objects of an agent with an imported change not yet synchronized: what a delta sync processes. */
  pendingImportIds(agent: string): number[] {
    return this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND pending_import IS NOT NULL ORDER BY id').pluck().all(agent) as number[];
  }

  countCs(agent: string): number {
    return this.q.prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ?').pluck().get(agent) as number;
  }

  connectorsOf(mvId: number): CsRow[] {
    return (this.q.prepare('SELECT * FROM cs_object WHERE mv_id = ? ORDER BY id').all(mvId) as CsDbRow[]).map(toCs);
  }

  insertCs(
    step: StepRef | undefined,
    o: {
      agent: string;
      anchor: string | null;
      dn: string;
      dnKey: string;
      objectClasses: string[];
      attributes: AttributeMap;
      pendingImport: PendingImport | null;
      provisioned?: boolean;
      owned?: boolean;
    },
  ): number {
    return this.insertCsRow(step, o, o.provisioned ? 'provision' : 'import-add');
  }

  /**
   * A new object provisioned for an MV object: stored already linked to it (owned, waiting for its
   * export), with its lineage and its pending add, in the fewest writes: provisioning does this once
   * per person in a first synchronization.
   */
  insertProvisioned(
    step: StepRef | undefined,
    o: { agent: string; dn: string; dnKey: string; objectClasses: string[]; attributes: AttributeMap },
    mvId: number,
    detail: string,
  ): number {
    const link = { mvId, kind: 'provisioning' as const, runId: step?.runId ?? null };
    // Spelled out, not spread from o: the spread object cost a tenth of the sync's time and
    // doubled the young generation (measured at 100,000 people).
    const row = {
      agent: o.agent,
      anchor: null,
      dn: o.dn,
      dnKey: o.dnKey,
      objectClasses: o.objectClasses,
      attributes: o.attributes,
      pendingImport: null,
      provisioned: true,
      owned: true,
    };
    const id = this.insertCsRow(step, row, 'provision', link);
    this.lineage(step, { id, agent: o.agent, anchor: null, dn: o.dn }, mvId, link.kind, true, detail);
    this.putPendingAdd(step, { id, agent: o.agent, dn: o.dn, objectClasses: o.objectClasses });
    return id;
  }

  private insertCsRow(
    step: StepRef | undefined,
    o: {
      agent: string;
      anchor: string | null;
      dn: string;
      dnKey: string;
      objectClasses: string[];
      attributes: AttributeMap;
      pendingImport: PendingImport | null;
      provisioned?: boolean;
      owned?: boolean;
    },
    operation: string,
    link?: { mvId: number; kind: LinkKind; runId: number | null },
  ): number {
    const t = now();
    const attributes = json(o.attributes);
    const id = Number(
      this.q
        .prepare(
          // seen_step (migration 1) is no longer used: a full import keeps what it saw in memory.
          `INSERT INTO cs_object (agent, anchor, dn, dn_key, object_classes, attributes, pending_import, provisioned, owned, mv_id, link_kind, linked_run, linked_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          o.agent,
          o.anchor,
          o.dn,
          o.dnKey,
          json(o.objectClasses),
          attributes,
          o.pendingImport,
          o.provisioned ? 1 : 0,
          o.owned ? 1 : 0,
          link?.mvId ?? null,
          link?.kind ?? null,
          link?.runId ?? null,
          link ? t : null,
          t,
          t,
        ).lastInsertRowid,
    );
    this.indexCs(id, o.agent, undefined, o.attributes);
    // The image is logged as it was stored: its JSON is reused rather than built a second time.
    this.logChangeJson(step, 'cs', o.agent, id, o.anchor ?? o.dn, operation, null, `{"dn":${json(o.dn)},"attributes":${attributes}}`);
    return id;
  }

  /** Replaces the image of a CS object; logs only the attributes that changed. */
  updateCsImage(
    step: StepRef | undefined,
    before: CsRow,
    after: { anchor?: string | null; dn: string; dnKey: string; objectClasses: string[]; attributes: AttributeMap },
    operation: string,
    pendingImport?: PendingImport | null,
  ): void {
    const anchor = after.anchor === undefined ? before.anchor : after.anchor;
    this.q
      .prepare(
        'UPDATE cs_object SET anchor = ?, dn = ?, dn_key = ?, object_classes = ?, attributes = ?, pending_import = COALESCE(?, pending_import), updated_at = ? WHERE id = ?',
      )
      .run(anchor, after.dn, after.dnKey, json(after.objectClasses), json(after.attributes), pendingImport ?? null, now(), before.id);
    this.indexCs(before.id, before.agent, before.attributes, after.attributes);
    const diff = diffAttributes(before.attributes, after.attributes);
    const b: Record<string, unknown> = { ...diff.before };
    const a: Record<string, unknown> = { ...diff.after };
    if (before.dn !== after.dn) {
      b.dn = before.dn;
      a.dn = after.dn;
    }
    if (before.anchor !== anchor) {
      b.anchor = before.anchor;
      a.anchor = anchor;
    }
    this.logChange(step, 'cs', before.agent, before.id, anchor ?? after.dn, operation, b, a);
  }

  setPendingImport(id: number, p: PendingImport | null): void {
    this.q.prepare('UPDATE cs_object SET pending_import = ? WHERE id = ?').run(p, id);
  }

  /** Objects of an agent that came from its directory (not waiting for their first export): what a full import must see again. */
  importedCsIds(agent: string): number[] {
    return this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND provisioned = 0').pluck().all(agent) as number[];
  }

  /**
   * The anchors of an agent's objects, with their ids: what a deletion check (a read of the anchors
   * alone) compares. Only objects read from the directory have one (a provisioned object gets its
   * anchor when its add is recorded, and is no longer provisioned then), so this reads the anchor
   * index alone, not the rows; an object without an anchor is recognised by a full import.
   */
  importedAnchors(agent: string): Map<string, number> {
    const known = new Map<string, number>();
    const rows = this.q.prepare('SELECT anchor, id FROM cs_object WHERE agent = ? AND anchor IS NOT NULL').raw().iterate(agent) as IterableIterator<
      [string, number]
    >;
    for (const [anchor, id] of rows) known.set(anchor, id);
    return known;
  }

  /** Whether an agent has objects without an anchor: export adds whose anchor could not be read back, and provisioned objects. */
  hasAnchorlessCs(agent: string): boolean {
    return this.q.prepare('SELECT 1 FROM cs_object WHERE agent = ? AND anchor IS NULL LIMIT 1').pluck().get(agent) !== undefined;
  }

  setCsOwned(id: number, owned: boolean): void {
    this.q.prepare('UPDATE cs_object SET owned = ? WHERE id = ?').run(owned ? 1 : 0, id);
  }

  markExported(id: number): void {
    this.q.prepare('UPDATE cs_object SET provisioned = 0 WHERE id = ?').run(id);
  }

  deleteCs(step: StepRef | undefined, cs: CsRow, operation: string): void {
    this.q.prepare('DELETE FROM cs_object WHERE id = ?').run(cs.id);
    this.logChange(step, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, operation, { dn: cs.dn, attributes: cs.attributes }, undefined);
  }

  /** Brings the lookup index from the old image's values (none for a new object) to the new one's, touching only what changed. */
  private indexCs(id: number, agent: string, before: AttributeMap | undefined, after: AttributeMap): void {
    const keys = this.plan.cs.get(agent);
    if (!keys?.length) return;
    for (const key of keys) {
      const { gone, added } = valueChanges(before ? indexValues(key, before) : [], indexValues(key, after));
      for (const v of gone) this.q.prepare('DELETE FROM cs_index WHERE cs_id = ? AND attribute = ? AND value = ?').run(id, key, v);
      for (const v of added) this.q.prepare('INSERT INTO cs_index (cs_id, agent, attribute, value) VALUES (?, ?, ?, ?)').run(id, agent, key, v);
    }
  }

  /** Whether the agent has any object linked to no metaverse object. */
  hasDisconnectors(agent: string): boolean {
    return this.q.prepare('SELECT EXISTS (SELECT 1 FROM cs_object WHERE agent = ? AND mv_id IS NULL)').pluck().get(agent) === 1;
  }

  /** Disconnectors of an agent whose indexed key has this (folded) value. */
  findDisconnectors(agent: string, key: string, value: string): CsRow[] {
    return (
      this.q
        .prepare(
          'SELECT DISTINCT c.* FROM cs_index i JOIN cs_object c ON c.id = i.cs_id WHERE i.agent = ? AND i.attribute = ? AND i.value = ? AND c.mv_id IS NULL',
        )
        .all(agent, key, value.toLowerCase()) as CsDbRow[]
    ).map(toCs);
  }

  /** Objects of an agent, connected or not, whose indexed key has this (folded) value. */
  findCsByIndex(agent: string, key: string, value: string): CsRow[] {
    return (
      this.q
        .prepare('SELECT DISTINCT c.* FROM cs_index i JOIN cs_object c ON c.id = i.cs_id WHERE i.agent = ? AND i.attribute = ? AND i.value = ?')
        .all(agent, key, value.toLowerCase()) as CsDbRow[]
    ).map(toCs);
  }

  // ---- links and lineage -------------------------------------------------------------------

  /**
   * Links a CS object to an MV object; only the fields lineage records are read (a row just inserted
   * need not be fetched again). `synchronized`: the link is what the sync makes of the object's
   * imported change, which is then cleared in the same statement rather than a second one.
   */
  link(
    step: StepRef | undefined,
    cs: Pick<CsRow, 'id' | 'agent' | 'anchor' | 'dn'>,
    mvId: number,
    kind: LinkKind,
    owned: boolean,
    detail?: string,
    synchronized = false,
  ): void {
    const t = now();
    this.q.prepare(synchronized ? LINK_SYNCHRONIZED : LINK).run(mvId, kind, step?.runId ?? null, t, owned ? 1 : 0, cs.id);
    this.lineage(step, cs, mvId, kind, owned, detail);
  }

  unlink(step: StepRef | undefined, cs: CsRow, event: string, detail: string): void {
    if (cs.mvId === null) return;
    this.q.prepare('UPDATE cs_object SET mv_id = NULL, link_kind = NULL, linked_run = NULL, linked_at = NULL WHERE id = ?').run(cs.id);
    this.lineage(step, cs, cs.mvId, event, cs.owned, detail);
  }

  private lineage(
    step: StepRef | undefined,
    cs: Pick<CsRow, 'id' | 'agent' | 'anchor' | 'dn'>,
    mvId: number,
    event: string,
    owned: boolean,
    detail?: string,
  ): void {
    this.q
      .prepare('INSERT INTO lineage (run_id, agent, cs_id, anchor, dn, mv_id, event, owned, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(step?.runId ?? null, cs.agent, cs.id, cs.anchor, cs.dn, mvId, event, owned ? 1 : 0, detail ?? null, now());
  }

  lineageOf(mvId: number): {
    runId: number | null;
    agent: string;
    csId: number;
    anchor: string | null;
    dn: string;
    event: string;
    owned: boolean;
    detail: string | null;
    at: string;
  }[] {
    return (
      this.q
        .prepare('SELECT run_id AS runId, agent, cs_id AS csId, anchor, dn, event, owned, detail, at FROM lineage WHERE mv_id = ? ORDER BY id')
        .all(mvId) as { owned: number }[]
    ).map((r) => ({ ...r, owned: r.owned === 1 })) as never;
  }

  // ---- metaverse ---------------------------------------------------------------------------

  getMv(id: number): MvRow | undefined {
    const r = this.q.prepare('SELECT id, object_type, attributes, sources FROM mv_object WHERE id = ?').get(id) as
      { id: number; object_type: string; attributes: string; sources: string } | undefined;
    return (
      r && {
        id: r.id,
        objectType: r.object_type,
        attributes: JSON.parse(r.attributes) as AttributeMap,
        sources: JSON.parse(r.sources) as Record<string, string>,
      }
    );
  }

  mvIds(objectType?: string): number[] {
    return (
      objectType
        ? this.q.prepare('SELECT id FROM mv_object WHERE object_type = ? ORDER BY id').pluck().all(objectType)
        : this.q.prepare('SELECT id FROM mv_object ORDER BY id').pluck().all()
    ) as number[];
  }

  createMv(step: StepRef | undefined, objectType: string, attributes: AttributeMap, sources: Record<string, string>): number {
    const t = now();
    const id = Number(
      this.q
        .prepare('INSERT INTO mv_object (object_type, attributes, sources, created_run, updated_run, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(objectType, json(attributes), json(sources), step?.runId ?? null, step?.runId ?? null, t, t).lastInsertRowid,
    );
    this.indexMv(id, objectType, undefined, attributes);
    this.logChange(step, 'mv', null, id, objectType, 'mv-add', undefined, attributes);
    return id;
  }

  updateMv(step: StepRef | undefined, before: MvRow, attributes: AttributeMap, sources: Record<string, string>): void {
    this.q
      .prepare('UPDATE mv_object SET attributes = ?, sources = ?, updated_run = ?, updated_at = ? WHERE id = ?')
      .run(json(attributes), json(sources), step?.runId ?? null, now(), before.id);
    this.indexMv(before.id, before.objectType, before.attributes, attributes);
    const diff = diffAttributes(before.attributes, attributes);
    this.logChange(step, 'mv', null, before.id, before.objectType, 'mv-update', diff.before, diff.after);
  }

  deleteMv(step: StepRef | undefined, mv: MvRow, reason: string): void {
    this.q.prepare('DELETE FROM mv_object WHERE id = ?').run(mv.id);
    this.logChange(step, 'mv', null, mv.id, mv.objectType, 'mv-delete', mv.attributes, { reason });
  }

  private indexMv(id: number, objectType: string, before: AttributeMap | undefined, after: AttributeMap): void {
    const attrs = this.plan.mv.get(objectType);
    if (!attrs?.length) return;
    const folded = (m: AttributeMap | undefined, a: string): string[] => lookupValues(m?.[a]);
    for (const a of attrs) {
      const { gone, added } = valueChanges(folded(before, a), folded(after, a));
      for (const v of gone) this.q.prepare('DELETE FROM mv_index WHERE mv_id = ? AND attribute = ? AND value = ?').run(id, a, v);
      for (const v of added) this.q.prepare('INSERT INTO mv_index (mv_id, object_type, attribute, value) VALUES (?, ?, ?, ?)').run(id, objectType, a, v);
    }
  }

  /** MV objects whose indexed attribute has this value (case-insensitive), optionally of one type. */
  findMv(attribute: string, value: string, objectType?: string): number[] {
    const v = value.toLowerCase();
    return (
      objectType
        ? this.q.prepare('SELECT DISTINCT mv_id FROM mv_index WHERE attribute = ? AND value = ? AND object_type = ?').pluck().all(attribute, v, objectType)
        : this.q.prepare('SELECT DISTINCT mv_id FROM mv_index WHERE attribute = ? AND value = ?').pluck().all(attribute, v)
    ) as number[];
  }

  // ---- pending exports ---------------------------------------------------------------------

  getPendingExport(csId: number): PendingExport | undefined {
    const r = this.q.prepare(`${SELECT_PENDING_EXPORT} WHERE p.cs_id = ?`).get(csId) as PeRow | undefined;
    return r && toPe(r);
  }

  /** Only the operation of an object's pending export: what sync asks of every object it reads. */
  pendingExportOperation(csId: number): PendingExport['operation'] | undefined {
    return this.q.prepare('SELECT operation FROM pending_export WHERE cs_id = ?').pluck().get(csId) as PendingExport['operation'] | undefined;
  }

  pendingExports(agent: string): PendingExport[] {
    return (this.q.prepare(`${SELECT_PENDING_EXPORT} WHERE p.agent = ? ORDER BY p.cs_id`).all(agent) as PeRow[]).map(toPe);
  }

  countPendingExports(agent?: string, operation?: PendingExport['operation']): number {
    if (operation) return this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ? AND operation = ?').pluck().get(agent, operation) as number;
    return (
      agent
        ? this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ?').pluck().get(agent)
        : this.q.prepare('SELECT COUNT(*) FROM pending_export').pluck().get()
    ) as number;
  }

  /** The CS ids of an agent's pending exports, operation by operation in the given order, then by id. */
  pendingExportIds(agent: string, order: readonly PendingExport['operation'][]): number[] {
    return order.flatMap(
      (op) => this.q.prepare('SELECT cs_id FROM pending_export WHERE agent = ? AND operation = ? ORDER BY cs_id').pluck().all(agent, op) as number[],
    );
  }

  /**
   * Stages (or replaces) the one pending export a CS object may have; a replacement keeps the sent
   * mark (its outcome is still unknown). The step that staged it is kept: a run exports at its end
   * what its steps staged after their agent's last export step.
   */
  putPendingExport(step: StepRef | undefined, pe: PendingExport): void {
    const common = [pe.csId, pe.agent, pe.operation, pe.dn];
    let newDn: string | null = null;
    let classes: string | null = null;
    let attrs = '{}';
    if (pe.operation === 'add') {
      classes = json(pe.objectClasses);
      attrs = json(pe.attributes);
    }
    if (pe.operation === 'update') {
      newDn = pe.newDn;
      attrs = json(pe.changes);
    }
    this.q
      .prepare(
        `INSERT INTO pending_export (cs_id, agent, operation, dn, new_dn, object_classes, attributes, created_run, staged_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET operation = excluded.operation, dn = excluded.dn, new_dn = excluded.new_dn,
           object_classes = excluded.object_classes, attributes = excluded.attributes, staged_step = excluded.staged_step`,
      )
      .run(...common, newDn, classes, attrs, step?.runId ?? null, step?.stepId ?? null);
  }

  /** How many of an agent's pending exports were staged (or replaced) after the given step. */
  countExportsStagedAfter(agent: string, stepId: number): number {
    return this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ? AND staged_step > ?').pluck().get(agent, stepId) as number;
  }

  /**
   * A provisioned object still waiting for its add, planned again with new values: its image and its
   * pending add change together, as they must (the add reads its attributes from the image).
   */
  replanProvisioned(step: StepRef | undefined, cs: CsRow, plan: { dn: string; dnKey: string; objectClasses: string[]; attributes: AttributeMap }): void {
    this.updateCsImage(step, cs, plan, 'provision-update');
    this.putPendingAdd(step, { id: cs.id, agent: cs.agent, dn: plan.dn, objectClasses: plan.objectClasses });
  }

  /**
   * Stages (or replaces) the add of a provisioned object whose image holds exactly what the add
   * writes (insertProvisioned and replanProvisioned write both): the add refers to the image instead
   * of keeping a third copy of the attributes (the change log holds the second), and reads them from
   * it when it is read.
   */
  private putPendingAdd(step: StepRef | undefined, cs: { id: number; agent: string; dn: string; objectClasses: string[] }): void {
    this.q
      .prepare(
        `INSERT INTO pending_export (cs_id, agent, operation, dn, new_dn, object_classes, attributes, created_run, staged_step) VALUES (?, ?, 'add', ?, NULL, ?, '${ATTRIBUTES_OF_IMAGE}', ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET operation = excluded.operation, dn = excluded.dn, new_dn = NULL,
           object_classes = excluded.object_classes, attributes = excluded.attributes, staged_step = excluded.staged_step`,
      )
      .run(cs.id, cs.agent, cs.dn, json(cs.objectClasses), step?.runId ?? null, step?.stepId ?? null);
  }

  removePendingExport(csId: number): void {
    this.q.prepare('DELETE FROM pending_export WHERE cs_id = ?').run(csId);
  }

  /** The directory refused the export: its outcome is known (not done), so it is no longer in doubt. */
  recordExportFailure(csId: number, message: string): void {
    this.q.prepare('UPDATE pending_export SET attempts = attempts + 1, last_error = ?, sent_at = NULL WHERE cs_id = ?').run(message, csId);
  }

  /** The intent, committed before the export goes out: if the process dies now, the next run knows. */
  markExportSent(csId: number): void {
    this.q.prepare('UPDATE pending_export SET sent_at = ? WHERE cs_id = ?').run(now(), csId);
  }

  /** An export marked as sent that never went out (the step stopped first): its outcome is known. */
  clearExportSent(csId: number): void {
    this.q.prepare('UPDATE pending_export SET sent_at = NULL WHERE cs_id = ?').run(csId);
  }

  // ---- retention ---------------------------------------------------------------------------

  /**
   * Retention: the change log, run errors and runs older than `before` (ISO time) go. A run that the
   * lineage, a metaverse object, a watermark or a pending export still names stays (its steps too),
   * so "which run created this contact" always resolves; the foreign keys decide that.
   */
  purgeHistoryBefore(before: string): { runs: number; changes: number; errors: number } {
    return this.transaction(() => {
      const changes = this.q.prepare('DELETE FROM change_log WHERE at < ?').run(before).changes;
      const errors = this.q.prepare('DELETE FROM run_error WHERE at < ?').run(before).changes;
      let runs = 0;
      for (const id of this.q.prepare('SELECT id FROM run WHERE ended_at IS NOT NULL AND ended_at < ?').pluck().all(before) as number[]) {
        try {
          this.transaction(() => {
            this.q.prepare('DELETE FROM run_step WHERE run_id = ?').run(id);
            this.q.prepare('DELETE FROM run WHERE id = ?').run(id);
          });
          runs++;
        } catch (e) {
          if (!/FOREIGN KEY/.test((e as Error).message)) throw e;
        }
      }
      return { runs, changes, errors };
    });
  }

  // ---- address conflicts -------------------------------------------------------------------

  /**
   * Records that an MV object gets no contact in `agent` because others hold its address. True when
   * this is news (no conflict was recorded, or it was for another address): only then is it reported.
   */
  openAddressConflict(step: StepRef, mv: MvRow, agent: string, mail: string, others: string[]): boolean {
    const known = this.q.prepare('SELECT mail FROM address_conflict WHERE mv_id = ? AND agent = ?').pluck().get(mv.id, agent) as string | undefined;
    if (known !== undefined && known.toLowerCase() === mail.toLowerCase()) return false;
    this.q
      .prepare('INSERT OR REPLACE INTO address_conflict (mv_id, agent, mail, others, run_id, found_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(mv.id, agent, mail, json(others), step.runId, now());
    this.logChange(step, 'mv', null, mv.id, mv.objectType, 'address-conflict', undefined, { agent, mail, others });
    return true;
  }

  /** The conflict of this MV object in `agent` ended (one side went, or the address changed). */
  closeAddressConflict(step: StepRef, mv: MvRow, agent: string, why: string): void {
    const row = this.q.prepare('DELETE FROM address_conflict WHERE mv_id = ? AND agent = ? RETURNING mail, others').get(mv.id, agent) as
      { mail: string; others: string } | undefined;
    if (row)
      this.logChange(
        step,
        'mv',
        null,
        mv.id,
        mv.objectType,
        'address-conflict-resolved',
        { agent, mail: row.mail, others: JSON.parse(row.others) as string[] },
        { why },
      );
  }

  addressConflicts(): { mvId: number; agent: string; mail: string; others: string[]; runId: number | null; foundAt: string }[] {
    const rows = this.q.prepare('SELECT mv_id, agent, mail, others, run_id, found_at FROM address_conflict ORDER BY found_at, mv_id').all() as {
      mv_id: number;
      agent: string;
      mail: string;
      others: string;
      run_id: number | null;
      found_at: string;
    }[];
    return rows.map((r) => ({ mvId: r.mv_id, agent: r.agent, mail: r.mail, others: JSON.parse(r.others) as string[], runId: r.run_id, foundAt: r.found_at }));
  }

  // ---- watermarks --------------------------------------------------------------------------

  getWatermark(agent: string): string | undefined {
    return this.q.prepare('SELECT value FROM watermark WHERE agent = ?').pluck().get(agent) as string | undefined;
  }

  /** Call inside the transaction that stages the changes the watermark covers. */
  setWatermark(step: StepRef, agent: string, value: string): void {
    this.q
      .prepare(
        `INSERT INTO watermark (agent, value, run_id, step_id, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET value = excluded.value, run_id = excluded.run_id, step_id = excluded.step_id, updated_at = excluded.updated_at`,
      )
      .run(agent, value, step.runId, step.stepId, now());
  }

  // ---- full imports -------------------------------------------------------------------------

  /** Call inside the transaction that stages a full import's deletions: its read reached the end. */
  recordFullImport(step: StepRef, agent: string, seen: number): void {
    this.q
      .prepare(
        `INSERT INTO full_import (agent, run_id, step_id, finished_at, seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET run_id = excluded.run_id, step_id = excluded.step_id, finished_at = excluded.finished_at, seen = excluded.seen`,
      )
      .run(agent, step.runId, step.stepId, now(), seen);
  }

  /** Whether the agent's directory has been read in full at least once. */
  hasFullImport(agent: string): boolean {
    return this.q.prepare('SELECT 1 FROM full_import WHERE agent = ?').pluck().get(agent) !== undefined;
  }

  // ---- deletion checks ----------------------------------------------------------------------

  /** When the agent's anchors were last compared with its connector space, and what that found. */
  lastDeletionCheck(agent: string): { checkedAt: string; runId: number | null; seen: number; gone: number } | undefined {
    const r = this.q.prepare('SELECT checked_at, run_id, seen, gone FROM deletion_check WHERE agent = ?').get(agent) as
      { checked_at: string; run_id: number | null; seen: number; gone: number } | undefined;
    return r && { checkedAt: r.checked_at, runId: r.run_id, seen: r.seen, gone: r.gone };
  }

  /** Call inside the transaction that stages the deletions the check found. */
  recordDeletionCheck(step: StepRef, agent: string, seen: number, gone: number): void {
    this.q
      .prepare(
        `INSERT INTO deletion_check (agent, run_id, step_id, checked_at, seen, gone) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET run_id = excluded.run_id, step_id = excluded.step_id, checked_at = excluded.checked_at, seen = excluded.seen, gone = excluded.gone`,
      )
      .run(agent, step.runId, step.stepId, now(), seen, gone);
  }

  // ---- export expectations (confirming import) ---------------------------------------------

  /** Records what an export wrote; a second export before the confirming import adds to it. */
  expectExported(step: StepRef, csId: number, agent: string, dn: string, attributes: AttributeMap): void {
    const known = this.getExpectation(csId);
    const merged = { ...(known?.attributes ?? {}), ...attributes };
    this.q
      .prepare(
        `INSERT INTO export_expectation (cs_id, agent, dn, attributes, step_id, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET dn = excluded.dn, attributes = excluded.attributes, step_id = excluded.step_id, at = excluded.at`,
      )
      .run(csId, agent, dn, json(merged), step.stepId, now());
  }

  getExpectation(csId: number): { csId: number; dn: string; attributes: AttributeMap; stepId: number | null } | undefined {
    const r = this.q.prepare('SELECT cs_id, dn, attributes, step_id FROM export_expectation WHERE cs_id = ?').get(csId) as
      { cs_id: number; dn: string; attributes: string; step_id: number | null } | undefined;
    return r && { csId: r.cs_id, dn: r.dn, attributes: JSON.parse(r.attributes) as AttributeMap, stepId: r.step_id };
  }

  /** Expectations of an agent recorded before this step (an import confirms what earlier exports wrote). */
  expectationsBefore(agent: string, stepId: number): { csId: number; dn: string; attributes: AttributeMap }[] {
    return (
      this.q
        .prepare('SELECT cs_id, dn, attributes FROM export_expectation WHERE agent = ? AND (step_id IS NULL OR step_id < ?) ORDER BY cs_id')
        .all(agent, stepId) as {
        cs_id: number;
        dn: string;
        attributes: string;
      }[]
    ).map((r) => ({ csId: r.cs_id, dn: r.dn, attributes: JSON.parse(r.attributes) as AttributeMap }));
  }

  /** The CS objects of an agent that carry an export expectation. */
  expectationIds(agent: string): number[] {
    return this.q.prepare('SELECT cs_id FROM export_expectation WHERE agent = ?').pluck().all(agent) as number[];
  }

  clearExpectation(csId: number): void {
    this.q.prepare('DELETE FROM export_expectation WHERE cs_id = ?').run(csId);
  }
}

const LINK = 'UPDATE cs_object SET mv_id = ?, link_kind = ?, linked_run = ?, linked_at = ?, owned = ? WHERE id = ?';
const LINK_SYNCHRONIZED = 'UPDATE cs_object SET mv_id = ?, link_kind = ?, linked_run = ?, linked_at = ?, owned = ?, pending_import = NULL WHERE id = ?';

/** What an add's attributes column holds when they are its object's image (putPendingAdd): not JSON, so never a real value. */
const ATTRIBUTES_OF_IMAGE = '';
const SELECT_PENDING_EXPORT = `SELECT p.cs_id, p.agent, p.operation, p.dn, p.new_dn, p.object_classes, p.attempts, p.last_error, p.sent_at,
  CASE WHEN p.attributes = '${ATTRIBUTES_OF_IMAGE}' THEN c.attributes ELSE p.attributes END AS attributes
  FROM pending_export p JOIN cs_object c ON c.id = p.cs_id`;

interface PeRow {
  cs_id: number;
  agent: string;
  operation: 'add' | 'update' | 'delete';
  dn: string;
  new_dn: string | null;
  object_classes: string | null;
  attributes: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

function toPe(r: PeRow): PendingExport {
  const base = { csId: r.cs_id, agent: r.agent, dn: r.dn, attempts: r.attempts, lastError: r.last_error, sentAt: r.sent_at };
  if (r.operation === 'add')
    return { ...base, operation: 'add', objectClasses: JSON.parse(r.object_classes ?? '[]') as string[], attributes: JSON.parse(r.attributes) as AttributeMap };
  if (r.operation === 'update')
    return { ...base, operation: 'update', newDn: r.new_dn, changes: JSON.parse(r.attributes) as Record<string, { before: string[]; after: string[] }> };
  return { ...base, operation: 'delete' };
}
