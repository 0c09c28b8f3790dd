/**
 * The SQLite file under the store: opening it safely (refusing one that cannot be used), the
 * migrations, the statement cache and the one transaction wrapper every repository shares.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync, renameSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations.js';

/** The time for a row: the same ISO string is reused within a millisecond (formatting it showed in profiles). */
let lastMs = 0;
let lastIso = '';
export const now = (): string => {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
};
export const json = (v: unknown): string => JSON.stringify(v);

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

export class Db {
  readonly sqlite: Database.Database;
  /**
   * Statements are prepared once and reused: preparing on every call cost a third of a first setup's
   * time. Each SQL text is used in one way (plucked or not), so caching by text is safe.
   */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(sqlite: Database.Database) {
    this.sqlite = sqlite;
  }

  prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.sqlite.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Opens (creating with mode 0600) and migrates the store. A store that cannot be used (its folder
   * missing, a folder in its place, an empty file where a store was, a file that is not a dirbridge
   * store or is damaged) is refused with a StoreUnusableError that says what to do; nothing is written.
   */
  static open(file: string, options: { readonly?: boolean } = {}): Db {
    try {
      return Db.openChecked(file, options);
    } catch (e) {
      throw StoreUnusableError.from(file, e);
    }
  }

  private static openChecked(file: string, options: { readonly?: boolean }): Db {
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
        Db.create(file);
      }
      if (!options.readonly) chmodSync(file, 0o600);
    }
    return Db.connect(file, options);
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
    const db = Db.connect(making, {});
    db.close(); // the last connection checkpoints the write-ahead log into the file and removes it
    renameSync(making, file);
  }

  private static connect(file: string, options: { readonly?: boolean }): Db {
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
    const store = new Db(db);
    if (!options.readonly) store.migrate();
    return store;
  }

  close(): void {
    this.sqlite.close();
  }

  schemaVersion(): number {
    const has = this.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").get();
    if (!has) return 0;
    const row = this.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.sqlite.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = this.schemaVersion();
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (current > latest) throw new Error(`the store has schema version ${current}, newer than this dirbridge understands (${latest}); upgrade dirbridge`);
    for (const m of migrations.filter((x) => x.version > current)) {
      this.sqlite.transaction(() => {
        this.sqlite.exec(m.sql);
        this.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, now());
      })();
    }
  }

  /** One wrapper for every transaction (nested calls become savepoints): building one per call showed in profiles. */
  private txWrapper: ((fn: () => unknown) => unknown) | undefined;

  transaction<T>(fn: () => T): T {
    this.txWrapper ??= this.sqlite.transaction((inner: () => unknown) => inner());
    return this.txWrapper(fn) as T;
  }

  /**
   * What SQLite's quick_check finds wrong with the file (none: an empty list). It reads every page, so
   * it costs about a full read of the store: `dirbridge status --integrity` runs it when asked.
   */
  integrityProblems(): string[] {
    try {
      const rows = this.sqlite.pragma('quick_check(20)', { simple: false }) as { quick_check: string }[];
      return rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    } catch (e) {
      return [(e as Error).message];
    }
  }
}
