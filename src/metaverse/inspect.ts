/**
 * Read-only questions auditors and operators ask of the store: search the metaverse, an object with
 * everything known about it, connector-space objects by state, the run history, and the address-book
 * report. Nothing here writes; it sits next to the store because SQL lives only in src/metaverse.
 */
import { type ChangeRow, changeRows } from '../model/changes.js';
import type { AttributeMap, PendingExport } from '../model/objects.js';
import { dnKeyOf } from './keys.js';
import type { Store } from './store.js';
import type { CsRow, MvRow, RunOrigin, StepStats } from '../model/objects.js';

export interface AttributeCondition {
  attribute: string;
  /** Case-insensitive; `*` matches any run of characters. */
  pattern: string;
}

export interface MvSummary {
  id: number;
  objectType: string;
  cn: string;
  mail: string;
  sources: string;
  createdRun: number | null;
  updatedAt: string;
}

export interface ChangeEntry {
  /** The change log's own number: its order. */
  id: number;
  runId: number | null;
  at: string;
  space: 'mv' | 'cs';
  agent: string | null;
  objectId: number;
  /** What the log named the object by: the anchor (or DN) of a connector-space object, the type of a metaverse object. */
  object: string;
  /** A connector-space object's DN at the time (its current one, or the last the lineage knew). */
  dn: string | null;
  operation: string;
  before: unknown;
  after: unknown;
  /** The images as attribute rows: what changed, before and after. */
  rows: ChangeRow[];
}

/** A search of the change log; every field narrows it. */
export interface ChangeQuery {
  /** A metaverse object (#id, mail, anchor or DN, also of deleted ones) or a connector-space object (anchor or DN). */
  object?: string;
  agent?: string;
  runId?: number;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
  operation?: string;
  limit: number;
  offset?: number;
  /** The changes after this one (a download reads on from where it was). */
  afterId?: number;
}

export interface MvDetail {
  id: number;
  objectType: string;
  createdRun: number | null;
  createdAt: string;
  updatedAt: string;
  attributes: { attribute: string; values: string[]; source: string }[];
  connectors: {
    csId: number;
    agent: string;
    dn: string;
    anchor: string | null;
    link: string | null;
    linkedRun: number | null;
    linkedAt: string | null;
    owned: boolean;
  }[];
  lineage: ReturnType<Store['lineageOf']>;
  /** Moves it took part in: as the person who moved (then it was deleted by the move), or as their mailbox. */
  moves: ReturnType<Store['movesOf']>;
  /**
   * A group's members, by reference attribute: those resolved to a metaverse object (each with its
   * source), and those its connectors hold unresolved (with why). Empty for objects that are no group.
   */
  members: { attribute: string; resolved: { id: number; label: string }[] }[];
  unresolvedMembers: { agent: string; dn: string; attribute: string; member: string; reason: string; foundAt: string }[];
  history: ChangeEntry[];
  /** Set when the object was deleted: its attributes are its last image. */
  deleted?: { at: string; runId: number | null; reason: string | null };
}

export interface CsDetail {
  id: number;
  agent: string;
  dn: string;
  anchor: string | null;
  objectClasses: string[];
  attributes: AttributeMap;
  pendingImport: string | null;
  pendingExport: ReturnType<Store['getPendingExport']> | null;
  owned: boolean;
  metaverse: { id: number; objectType: string; link: string | null; linkedRun: number | null; linkedAt: string | null } | null;
  lineage: ReturnType<Store['lineageOf']>;
  history: ChangeEntry[];
}

export type CsFilter = 'pending-import' | 'pending-export' | 'disconnectors' | 'errors';

/**
 * One run in the list. The counts say what they count: a person who leaves is one import delete, one
 * metaverse delete and one contact deleted, so the phases are never added together.
 */
export interface RunSummary {
  id: number;
  profile: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  seconds: number | null;
  /** Who or what started it ("alice@host (command line)"), empty for runs before this was recorded. */
  startedBy: string;
  steps: number;
  /** Changes the imports found in the directories (adds, updates, renames, deletes), by the change log. */
  imported: number;
  /** Metaverse objects the syncs created, changed or deleted, by the change log. */
  metaverseChanges: number;
  /** What the exports wrote to the directories, by the change log. */
  adds: number;
  updates: number;
  deletes: number;
  errors: number;
  warnings: number;
  allowedDeletes: number | null;
}

/** The columns of a run in lists and downloads, in order. */
export const RUN_SUMMARY_COLUMNS = [
  'id',
  'profile',
  'status',
  'startedAt',
  'endedAt',
  'seconds',
  'startedBy',
  'steps',
  'imported',
  'metaverseChanges',
  'adds',
  'updates',
  'deletes',
  'errors',
  'warnings',
  'allowedDeletes',
] as const satisfies readonly (keyof RunSummary)[];

export interface ReportContact {
  mvId: number;
  /** The contact's connector-space object. */
  csId: number;
  agent: string;
  contact: string;
  mail: string;
  /** provisioned: dirbridge created it; joined: it existed and dirbridge only keeps it up to date. */
  origin: 'provisioned' | 'joined';
  personType: string;
  person: string;
  personSource: string;
  createdRun: number | null;
  linkedAt: string | null;
}

/** An open address conflict, with the object it keeps from getting a contact. */
export interface ConflictLine {
  mvId: number;
  objectType: string;
  /** The source object(s) the MV object stands for. */
  source: string;
  /** The agent that would have received the contact. */
  agent: string;
  mail: string;
  others: string;
  runId: number | null;
  foundAt: string;
}

/** A group member dirbridge could not resolve, with the group object that names it. */
export interface UnresolvedLine {
  /** The group's object: on import its source, on export its copy in the target. */
  group: string;
  agent: string;
  mvId: number | null;
  attribute: string;
  member: string;
  reason: string;
  runId: number | null;
  foundAt: string;
}

/** A metaverse object that got no contact anywhere, and why as far as the store can tell. */
export interface ReportUncovered {
  mvId: number;
  objectType: string;
  person: string;
  personSource: string;
  mail: string;
  why: string;
}

/** One agent as MIM's Connectors tab shows it: what its connector space holds, what waits, when it last ran. */
export interface AgentStatistics {
  agent: string;
  objects: number;
  /** Objects linked to a metaverse object. */
  connectors: number;
  /** Objects linked to none. */
  disconnectors: number;
  /** Of the connectors, those dirbridge created (it may delete them). */
  owned: number;
  pendingImports: number;
  pendingExports: { add: number; modify: number; rename: number; delete: number };
  /** Pending exports the directory refused last time. */
  exportErrors: number;
  watermark: { value: string; updatedAt: string; ageMinutes: number } | null;
  lastFullImport: string | null;
  lastStep: { runId: number; stepType: string; status: string; endedAt: string | null; message: string | null } | null;
  /** Per-object problems of the agent's last run. */
  lastRunProblems: number;
}

export interface ReportOrphan {
  agent: string;
  contact: string;
  why: string;
}

/**
 * A metaverse search as the CLI and the web view take it: mail and name patterns, and
 * attribute=pattern terms; `invalid` lists the terms that are not of that form.
 */
export function searchConditions(q: { mail?: string | undefined; name?: string | undefined; where?: readonly string[] | undefined }): {
  conditions: AttributeCondition[];
  invalid: string[];
} {
  const conditions: AttributeCondition[] = [];
  const invalid: string[] = [];
  if (q.mail) conditions.push({ attribute: 'mail', pattern: q.mail });
  if (q.name) conditions.push({ attribute: 'cn', pattern: q.name });
  for (const w of q.where ?? []) {
    const m = /^([A-Za-z][A-Za-z0-9-]*)=(.*)$/.exec(w);
    if (m) conditions.push({ attribute: m[1]!, pattern: m[2]! });
    else invalid.push(w);
  }
  return { conditions, invalid };
}

/** "alice@host (command line)", for a list; the full origin is in the run's detail. */
export function describeOrigin(o: RunOrigin | null): string {
  return o ? `${o.user}@${o.host} (${o.trigger})` : '';
}

const like = (pattern: string): string =>
  pattern
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%');

export type RunDetail = NonNullable<ReturnType<Store['getRun']>> & {
  steps: ReturnType<Store['runSteps']>;
  errors: ReturnType<Store['runErrors']>;
  changes: ChangeEntry[];
};

export class Inspector {
  constructor(private readonly store: Store) {}

  /** The store's statement cache: the inspector's queries are prepared once, as the store's are. */
  private get db() {
    return this.store.sql;
  }

  /** `afterId`: the objects after this id (a download reads on from where it was, not by offset). */
  searchMv(options: { type?: string; conditions: AttributeCondition[]; limit: number; offset?: number; afterId?: number }): MvSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (options.afterId !== undefined) {
      where.push('id > ?');
      args.push(options.afterId);
    }
    if (options.type) {
      where.push('object_type = ?');
      args.push(options.type);
    }
    for (const c of options.conditions) {
      where.push(
        `EXISTS (SELECT 1 FROM json_each(mv_object.attributes) a, json_each(a.value) v WHERE lower(a.key) = lower(?) AND lower(v.value) LIKE ? ESCAPE '\\')`,
      );
      args.push(c.attribute, like(c.pattern));
    }
    const rows = this.db
      .prepare(
        `SELECT id, object_type, attributes, sources, created_run, updated_at FROM mv_object ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ? OFFSET ?`,
      )
      .all(...args, options.limit, options.offset ?? 0) as {
      id: number;
      object_type: string;
      attributes: string;
      sources: string;
      created_run: number | null;
      updated_at: string;
    }[];
    return rows.map((r) => {
      const a = JSON.parse(r.attributes) as AttributeMap;
      return {
        id: r.id,
        objectType: r.object_type,
        cn: (a['cn'] ?? a['displayName'] ?? [])[0] ?? '',
        mail: a['mail']?.[0] ?? '',
        sources: [...new Set(Object.values(JSON.parse(r.sources) as Record<string, string>))].join(', '),
        createdRun: r.created_run,
        updatedAt: r.updated_at,
      };
    });
  }

  /** MV objects an operator means by this: "#12" or "12", a mail address, an anchor, or a DN of any connector. */
  resolveMv(query: string): number[] {
    const q = query.trim();
    const id = /^#?(\d+)$/.exec(q)?.[1];
    if (id && this.store.getMv(Number(id))) return [Number(id)];
    if (q.includes('@') && !q.includes('=')) return this.store.findMv('mail', q.toLowerCase());
    const cs = this.resolveCs(undefined, q);
    return [...new Set(cs.flatMap((c) => (c.mvId === null ? [] : [c.mvId])))];
  }

  /** Connector-space objects by anchor or DN (in one agent, or in all). */
  resolveCs(agent: string | undefined, query: string): CsRow[] {
    const where = agent ? 'agent = ? AND' : '';
    const args = agent ? [agent] : [];
    const ids = this.db
      .prepare(`SELECT id FROM cs_object WHERE ${where} (anchor = ? OR lower(dn) = lower(?) OR dn_key = ?) ORDER BY id`)
      .pluck()
      .all(...args, query, query, dnKeyOf(query)) as number[];
    return ids.map((i) => this.store.getCs(i)!);
  }

  /** Deleted metaverse objects an operator means by this: "#12", a mail address, or an anchor or DN one of its connectors had. */
  resolveDeletedMv(query: string): number[] {
    const id = /^#?(\d+)$/.exec(query.trim())?.[1];
    if (id) return this.store.getTombstone(Number(id)) ? [Number(id)] : [];
    return this.store.findTombstones(query);
  }

  /** A deleted metaverse object: its last image, its lineage, and the history of it and of its connectors. */
  deletedMvDetail(id: number): MvDetail | undefined {
    const t = this.store.getTombstone(id);
    if (!t) return undefined;
    const lineage = this.store.lineageOf(id);
    const csIds = [...new Set(lineage.map((l) => l.csId))];
    const history = [...this.changes('mv', id), ...csIds.flatMap((c) => this.changes('cs', c))].sort((a, b) => a.id - b.id);
    const created = history.find((h) => h.space === 'mv' && h.operation === 'mv-add');
    return {
      id,
      objectType: t.objectType,
      createdRun: created?.runId ?? null,
      createdAt: created?.at ?? '',
      updatedAt: t.deletedAt,
      attributes: Object.entries(t.attributes).map(([attribute, values]) => ({ attribute, values, source: '' })),
      connectors: [],
      lineage,
      moves: this.store.movesOf(id),
      members: [],
      unresolvedMembers: [],
      history,
      deleted: { at: t.deletedAt, runId: t.runId, reason: t.reason },
    };
  }

  /** `referencesOf`: a type's attributes that hold references (a group's members), shown resolved. */
  mvDetail(id: number, referencesOf: (objectType: string) => readonly string[] = () => []): MvDetail | undefined {
    const mv = this.store.getMv(id);
    if (!mv) return undefined;
    const meta = this.db.prepare('SELECT created_run, created_at, updated_at FROM mv_object WHERE id = ?').get(id) as {
      created_run: number | null;
      created_at: string;
      updated_at: string;
    };
    const connectors = this.store.connectorsOf(id);
    const history = [...this.changes('mv', id), ...connectors.flatMap((c) => this.changes('cs', c.id))].sort((a, b) => a.id - b.id);
    return {
      id,
      objectType: mv.objectType,
      createdRun: meta.created_run,
      createdAt: meta.created_at,
      updatedAt: meta.updated_at,
      attributes: Object.entries(mv.attributes).map(([attribute, values]) => ({ attribute, values, source: mv.sources[attribute] ?? '' })),
      connectors: connectors.map((c) => ({
        csId: c.id,
        agent: c.agent,
        dn: c.dn,
        anchor: c.anchor,
        link: c.linkKind,
        linkedRun: c.linkedRun,
        linkedAt: c.linkedAt,
        owned: c.owned,
      })),
      lineage: this.store.lineageOf(id),
      moves: this.store.movesOf(id),
      members: referencesOf(mv.objectType).map((attribute) => ({
        attribute,
        resolved: (mv.attributes[attribute] ?? []).map((m) => ({ id: Number(m), label: this.mvLabel(Number(m)) })),
      })),
      unresolvedMembers: connectors.flatMap((c) =>
        this.store.unresolvedOf(c.id).map((u) => ({ agent: c.agent, dn: c.dn, attribute: u.attribute, member: u.label, reason: u.reason, foundAt: u.foundAt })),
      ),
      history,
    };
  }

  /** A metaverse object as a member list names it: its type and the DN of its source (the object it was projected from). */
  private mvLabel(id: number): string {
    const mv = this.store.getMv(id);
    if (!mv) return `#${id} (deleted)`;
    const connectors = this.store.connectorsOf(id);
    const source = connectors.find((c) => c.linkKind === 'projection') ?? connectors[0];
    return `${mv.objectType} #${id}${source ? ` ${source.dn} (${source.agent})` : ''}`;
  }

  csDetail(cs: CsRow): CsDetail {
    const mv: MvRow | undefined = cs.mvId === null ? undefined : this.store.getMv(cs.mvId);
    const lineage = (
      this.db
        .prepare('SELECT run_id AS runId, agent, cs_id AS csId, anchor, dn, event, owned, detail, at FROM lineage WHERE cs_id = ? ORDER BY id')
        .all(cs.id) as { owned: number }[]
    ).map((r) => ({ ...r, owned: r.owned === 1 })) as never;
    return {
      id: cs.id,
      agent: cs.agent,
      dn: cs.dn,
      anchor: cs.anchor,
      objectClasses: cs.objectClasses,
      attributes: cs.attributes,
      pendingImport: cs.pendingImport,
      pendingExport: this.store.getPendingExport(cs.id) ?? null,
      owned: cs.owned,
      metaverse: mv ? { id: mv.id, objectType: mv.objectType, link: cs.linkKind, linkedRun: cs.linkedRun, linkedAt: cs.linkedAt } : null,
      lineage,
      history: this.changes('cs', cs.id),
    };
  }

  private changes(space: 'mv' | 'cs', id: number): ChangeEntry[] {
    return this.changeEntries('c.space = ? AND c.object_id = ?', [space, id], 'ORDER BY c.id');
  }

  /** The changes of one run, in order (a page of them: a full import's run holds one per object). */
  runChanges(runId: number, limit = -1, offset = 0, afterId?: number): ChangeEntry[] {
    return afterId === undefined
      ? this.changeEntries('c.run_id = ?', [runId], 'ORDER BY c.id LIMIT ? OFFSET ?', [limit, offset])
      : this.changeEntries('c.run_id = ? AND c.id > ?', [runId, afterId], 'ORDER BY c.id LIMIT ?', [limit]);
  }

  countRunChanges(runId: number): number {
    return this.db.prepare('SELECT COUNT(*) FROM change_log WHERE run_id = ?').pluck().get(runId) as number;
  }

  /** The change log searched by object, agent, run, time range and operation, oldest first; `more` when the page was cut. */
  searchChanges(q: ChangeQuery): { entries: ChangeEntry[]; more: boolean } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.object !== undefined) {
      const mvIds = [...new Set([...this.resolveMv(q.object), ...this.resolveDeletedMv(q.object)])];
      const csIds = new Set(this.resolveCs(undefined, q.object).map((c) => c.id));
      for (const mv of mvIds) for (const l of this.store.lineageOf(mv)) csIds.add(l.csId);
      // A connector-space object that is gone is known by the lineage's anchors and DNs.
      for (const id of this.db
        .prepare('SELECT DISTINCT cs_id FROM lineage WHERE anchor = ? OR lower(dn) = lower(?)')
        .pluck()
        .all(q.object, q.object) as number[])
        csIds.add(id);
      if (!mvIds.length && !csIds.size) return { entries: [], more: false };
      const parts: string[] = [];
      if (mvIds.length) parts.push(`(c.space = 'mv' AND c.object_id IN (${mvIds.map(() => '?').join(',')}))`);
      if (csIds.size) parts.push(`(c.space = 'cs' AND c.object_id IN (${[...csIds].map(() => '?').join(',')}))`);
      where.push(`(${parts.join(' OR ')})`);
      args.push(...mvIds, ...csIds);
    }
    if (q.agent !== undefined) {
      where.push('c.agent = ?');
      args.push(q.agent);
    }
    if (q.runId !== undefined) {
      where.push('c.run_id = ?');
      args.push(q.runId);
    }
    if (q.since !== undefined) {
      where.push('c.at >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('c.at <= ?');
      args.push(q.until);
    }
    if (q.operation !== undefined) {
      where.push('c.operation = ?');
      args.push(q.operation);
    }
    if (q.afterId !== undefined) {
      where.push('c.id > ?');
      args.push(q.afterId);
    }
    const entries = this.changeEntries(where.length ? where.join(' AND ') : '1', args, 'ORDER BY c.id LIMIT ? OFFSET ?', [q.limit + 1, q.offset ?? 0]);
    return { entries: entries.slice(0, q.limit), more: entries.length > q.limit };
  }

  private changeEntries(where: string, args: unknown[], tail: string, tailArgs: unknown[] = []): ChangeEntry[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.run_id, c.at, c.space, c.agent, c.object_id, c.object_ref, c.operation, c.before, c.after,
           CASE WHEN c.space = 'cs' THEN COALESCE((SELECT o.dn FROM cs_object o WHERE o.id = c.object_id),
             (SELECT l.dn FROM lineage l WHERE l.cs_id = c.object_id ORDER BY l.id DESC LIMIT 1)) END AS dn
         FROM change_log c WHERE ${where} ${tail}`,
      )
      .all(...args, ...tailArgs) as {
      id: number;
      run_id: number | null;
      at: string;
      space: 'mv' | 'cs';
      agent: string | null;
      object_id: number;
      object_ref: string;
      operation: string;
      before: string | null;
      after: string | null;
      dn: string | null;
    }[];
    return rows.map((r) => {
      const before: unknown = r.before === null ? undefined : JSON.parse(r.before);
      const after: unknown = r.after === null ? undefined : JSON.parse(r.after);
      const imageDn = [after, before].map((i) => (i && typeof i === 'object' ? (i as { dn?: unknown }).dn : undefined)).find((d) => typeof d === 'string');
      return {
        id: r.id,
        runId: r.run_id,
        at: r.at,
        space: r.space,
        agent: r.agent,
        objectId: r.object_id,
        object: r.object_ref,
        dn: r.dn ?? (imageDn as string | undefined) ?? null,
        operation: r.operation,
        before,
        after,
        rows: changeRows(before, after),
      };
    });
  }

  searchCs(
    agent: string,
    filter: CsFilter | undefined,
    limit: number,
  ): {
    id: number;
    dn: string;
    anchor: string | null;
    pendingImport: string | null;
    pendingExport: string | null;
    lastError: string | null;
    mvId: number | null;
    link: string | null;
  }[] {
    const conditions: Record<CsFilter, string> = {
      'pending-import': 'c.pending_import IS NOT NULL',
      'pending-export': 'p.cs_id IS NOT NULL',
      disconnectors: 'c.mv_id IS NULL',
      errors: 'p.last_error IS NOT NULL',
    };
    return this.db
      .prepare(
        `SELECT c.id, c.dn, c.anchor, c.pending_import AS pendingImport, p.operation AS pendingExport, p.last_error AS lastError, c.mv_id AS mvId, c.link_kind AS link
         FROM cs_object c LEFT JOIN pending_export p ON p.cs_id = c.id WHERE c.agent = ? ${filter ? `AND ${conditions[filter]}` : ''} ORDER BY c.id LIMIT ?`,
      )
      .all(agent, limit) as never;
  }

  /** The pending exports of these agents, agent by agent: what `plan` and the next exports would send. */
  pendingExports(agents: readonly string[]): PendingExport[] {
    return agents.flatMap((a) => this.store.pendingExports(a));
  }

  /** What SQLite's quick_check finds wrong with the store's file (reads every page). */
  integrityProblems(): string[] {
    return this.store.integrityProblems();
  }

  /** One run as the history shows it: the run, its steps, its per-object errors and its changes. */
  run(id: number, changes: { limit?: number; offset?: number } = {}): RunDetail | undefined {
    const run = this.store.getRun(id);
    return (
      run && {
        ...run,
        steps: this.store.runSteps(id),
        errors: this.store.runErrors(id),
        changes: this.runChanges(id, changes.limit ?? -1, changes.offset ?? 0),
      }
    );
  }

  runs(limit: number, offset = 0): RunSummary[] {
    const rows = this.db
      .prepare(
        'SELECT id, profile, status, started_at, ended_at, allowed_deletes, started_by, change_counts FROM run WHERE profile <> ? ORDER BY id DESC LIMIT ? OFFSET ?',
      )
      .all('preview', limit, offset) as {
      id: number;
      profile: string;
      status: string;
      started_at: string;
      ended_at: string | null;
      allowed_deletes: number | null;
      started_by: string | null;
      change_counts: string | null;
    }[];
    // The counts come from the change log, one entry per change made: a step's statistics count a
    // delta-import-sync's import and sync together, so a person who left would be counted thrice. A
    // finished run has them stored; one in progress (or from before they were) is counted now.
    const byOperation = this.db.prepare('SELECT operation, COUNT(*) AS n FROM change_log WHERE run_id = ? GROUP BY operation');
    return rows.map((r) => {
      const steps = this.store.runSteps(r.id);
      const counted = new Map<string, number>(
        r.change_counts
          ? Object.entries(JSON.parse(r.change_counts) as Record<string, number>)
          : (byOperation.all(r.id) as { operation: string; n: number }[]).map((c) => [c.operation, c.n]),
      );
      const n = (...operations: string[]): number => operations.reduce((sum, o) => sum + (counted.get(o) ?? 0), 0);
      const stat = (k: keyof StepStats): number => steps.reduce((sum, s) => sum + (s.stats[k] ?? 0), 0);
      return {
        id: r.id,
        profile: r.profile,
        status: r.status,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        seconds: r.ended_at ? (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000 : null,
        startedBy: describeOrigin(r.started_by ? (JSON.parse(r.started_by) as RunOrigin) : null),
        steps: steps.length,
        imported: n('import-add', 'import-update', 'import-rename', 'import-delete'),
        metaverseChanges: n('mv-add', 'mv-update', 'mv-delete'),
        adds: n('export-add'),
        updates: n('export-update', 'export-rename'),
        deletes: n('export-delete'),
        errors: stat('errors'),
        warnings: stat('warnings'),
        allowedDeletes: r.allowed_deletes,
      };
    });
  }

  /**
   * What changes whenever the store does: the newest run, its end and status (every write is a
   * run's). Ends with "in-progress" while a run is writing.
   */
  storeGeneration(): string {
    const r = this.db.prepare('SELECT id, ended_at, status FROM run ORDER BY id DESC LIMIT 1').get() as
      { id: number; ended_at: string | null; status: string } | undefined;
    return r ? `${r.id}:${r.ended_at ?? ''}:${r.status}` : 'empty';
  }

  /** How many runs the history holds (previews left out), for paging. */
  countRuns(): number {
    return this.db.prepare("SELECT COUNT(*) FROM run WHERE profile <> 'preview'").pluck().get() as number;
  }

  /** Per profile: the last run, and the last that succeeded (success or completed-warnings). */
  profiles(): { profile: string; lastRun: number; lastStatus: string; lastStartedAt: string; lastSuccessRun: number | null; lastSuccessAt: string | null }[] {
    return this.db
      .prepare(
        `SELECT r.profile, r.id AS lastRun, r.status AS lastStatus, r.started_at AS lastStartedAt,
           (SELECT s.id FROM run s WHERE s.profile = r.profile AND s.status IN ('success', 'completed-warnings') ORDER BY s.id DESC LIMIT 1) AS lastSuccessRun,
           (SELECT s.ended_at FROM run s WHERE s.profile = r.profile AND s.status IN ('success', 'completed-warnings') ORDER BY s.id DESC LIMIT 1) AS lastSuccessAt
         FROM run r WHERE r.id = (SELECT MAX(id) FROM run x WHERE x.profile = r.profile) AND r.profile <> 'preview' ORDER BY r.profile`,
      )
      .all() as never;
  }

  /** The last full sync of an agent that ran to the end, with the rules' fingerprint of its run. */
  lastFullSync(agent: string): { runId: number; endedAt: string; fingerprint: string | null } | undefined {
    return this.db
      .prepare(
        `SELECT r.id AS runId, s.ended_at AS endedAt, r.config_fingerprint AS fingerprint FROM run_step s JOIN run r ON r.id = s.run_id
         WHERE s.agent = ? AND s.step_type = 'full-sync' AND s.status NOT LIKE 'stopped-%' AND s.status <> 'in-progress' ORDER BY s.id DESC LIMIT 1`,
      )
      .get(agent) as never;
  }

  conflicts(): ConflictLine[] {
    return this.store.addressConflicts().map((c) => ({
      mvId: c.mvId,
      objectType: this.store.getMv(c.mvId)?.objectType ?? '',
      source: this.store
        .connectorsOf(c.mvId)
        .map((cs) => `${cs.dn} (${cs.agent})`)
        .join('; '),
      agent: c.agent,
      mail: c.mail,
      others: c.others.join('; '),
      runId: c.runId,
      foundAt: c.foundAt,
    }));
  }

  /** Group members that could not be resolved, oldest first. */
  unresolved(limit?: number): UnresolvedLine[] {
    return this.store.unresolved.allUnresolved(limit).map((r) => {
      const cs = this.store.getCs(r.csId);
      const mv = cs?.mvId ? this.store.getMv(cs.mvId) : undefined;
      return {
        group: cs ? `${mv ? `${mv.objectType} ` : ''}${cs.dn}` : `#${r.csId}`,
        agent: cs?.agent ?? '',
        mvId: cs?.mvId ?? null,
        attribute: r.attribute,
        member: r.label,
        reason: r.reason,
        runId: r.runId,
        foundAt: r.foundAt,
      };
    });
  }

  /** Every contact dirbridge keeps (provisioned or joined), with the person it stands for. */
  /**
   * Pages come in the agent's DN order; `afterCsId` reads in connector-space order from that object on
   * instead (a download reads on from where it was: an offset would scan every row before it again).
   */
  reportContacts(limit = -1, offset = 0, afterCsId?: number): ReportContact[] {
    const select = `SELECT c.id, c.agent, c.dn, c.owned, c.link_kind, c.linked_run, c.linked_at, c.mv_id, c.attributes, m.object_type, m.attributes AS mv_attributes
         FROM cs_object c JOIN mv_object m ON m.id = c.mv_id WHERE c.link_kind IN ('provisioning', 'join')`;
    const rows = (
      afterCsId === undefined
        ? this.db.prepare(`${select} ORDER BY c.agent, c.dn_key LIMIT ? OFFSET ?`).all(limit, offset)
        : this.db.prepare(`${select} AND c.id > ? ORDER BY c.id LIMIT ?`).all(afterCsId, limit)
    ) as {
      id: number;
      agent: string;
      dn: string;
      owned: number;
      link_kind: string;
      linked_run: number | null;
      linked_at: string | null;
      mv_id: number;
      object_type: string;
      mv_attributes: string;
    }[];
    const created = this.db.prepare("SELECT run_id FROM lineage WHERE cs_id = ? AND event = 'provisioning' ORDER BY id LIMIT 1").pluck();
    return rows.map((r) => {
      const person = this.store.connectorsOf(r.mv_id).find((c) => c.linkKind === 'projection');
      const mvAttributes = JSON.parse(r.mv_attributes) as AttributeMap;
      return {
        mvId: r.mv_id,
        csId: r.id,
        agent: r.agent,
        contact: r.dn,
        mail: mvAttributes['mail']?.[0] ?? '',
        origin: r.link_kind === 'provisioning' ? 'provisioned' : 'joined',
        personType: r.object_type,
        person: person?.dn ?? `#${r.mv_id}`,
        personSource: person?.agent ?? '',
        createdRun: r.link_kind === 'provisioning' ? ((created.get(r.id) as number | undefined) ?? r.linked_run) : null,
        linkedAt: r.linked_at,
      };
    });
  }

  /**
   * Metaverse objects that have no contact in any agent (no provisioned and no joined connector), with
   * the reason when the store knows it: an open address conflict, or else the provisioning rules
   * did not give one (out of scope of every rule, or a target not set up).
   */
  reportUncovered(limit = -1, offset = 0, afterMvId = 0): ReportUncovered[] {
    const rows = this.db
      .prepare(
        `SELECT m.id, m.object_type, m.attributes, p.dn AS person, p.agent AS source,
           (SELECT group_concat(a.agent || ': ' || a.mail || ' also held by ' || a.others, '; ') FROM address_conflict a WHERE a.mv_id = m.id) AS conflict
         FROM mv_object m LEFT JOIN cs_object p ON p.mv_id = m.id AND p.link_kind = 'projection'
         WHERE m.id > ? AND NOT EXISTS (SELECT 1 FROM cs_object c WHERE c.mv_id = m.id AND c.link_kind IN ('provisioning', 'join'))
         ORDER BY m.id LIMIT ? OFFSET ?`,
      )
      .all(afterMvId, limit, offset) as {
      id: number;
      object_type: string;
      attributes: string;
      person: string | null;
      source: string | null;
      conflict: string | null;
    }[];
    return rows.map((r) => ({
      mvId: r.id,
      objectType: r.object_type,
      person: r.person ?? `#${r.id}`,
      personSource: r.source ?? '',
      mail: (JSON.parse(r.attributes) as AttributeMap)['mail']?.[0] ?? '',
      why: r.conflict ? `address conflict (${r.conflict})` : 'no provisioning rule gave it a contact (out of scope, or no rule for its type)',
    }));
  }

  /** Per agent: objects, connectors and disconnectors, pending work, the watermark's age, the last step. */
  agentStatistics(agents: readonly string[], now = Date.now()): AgentStatistics[] {
    return agents.map((agent) => {
      const counts = this.db
        .prepare(
          `SELECT COUNT(*) AS objects, COUNT(mv_id) AS connectors, SUM(CASE WHEN mv_id IS NOT NULL AND owned = 1 THEN 1 ELSE 0 END) AS owned,
             SUM(CASE WHEN pending_import IS NOT NULL THEN 1 ELSE 0 END) AS pendingImports FROM cs_object WHERE agent = ?`,
        )
        .get(agent) as { objects: number; connectors: number; owned: number | null; pendingImports: number | null };
      const pending = { add: 0, modify: 0, rename: 0, delete: 0 };
      for (const r of this.db.prepare('SELECT operation, COUNT(*) AS n FROM pending_export WHERE agent = ? GROUP BY operation').all(agent) as {
        operation: keyof typeof pending;
        n: number;
      }[])
        pending[r.operation] = r.n;
      const exportErrors = this.db.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ? AND last_error IS NOT NULL').pluck().get(agent) as number;
      const wm = this.db.prepare('SELECT value, updated_at AS updatedAt FROM watermark WHERE agent = ?').get(agent) as
        { value: string; updatedAt: string } | undefined;
      const full = this.db.prepare('SELECT finished_at FROM full_import WHERE agent = ?').pluck().get(agent) as string | undefined;
      const last = this.db
        .prepare('SELECT run_id AS runId, step_type AS stepType, status, ended_at AS endedAt, message FROM run_step WHERE agent = ? ORDER BY id DESC LIMIT 1')
        .get(agent) as AgentStatistics['lastStep'] | undefined;
      const lastRunProblems = last
        ? (this.db.prepare('SELECT COUNT(*) FROM run_error WHERE run_id = ? AND agent = ?').pluck().get(last.runId, agent) as number)
        : 0;
      return {
        agent,
        objects: counts.objects,
        connectors: counts.connectors,
        disconnectors: counts.objects - counts.connectors,
        owned: counts.owned ?? 0,
        pendingImports: counts.pendingImports ?? 0,
        pendingExports: pending,
        exportErrors,
        watermark: wm ? { ...wm, ageMinutes: Math.floor((now - Date.parse(wm.updatedAt)) / 60_000) } : null,
        lastFullImport: full ?? null,
        lastStep: last ?? null,
        lastRunProblems,
      };
    });
  }

  /** How many rows each report section has, and how many contacts dirbridge created and joined. */
  reportCounts(): { provisioned: number; joined: number; conflicts: number; orphans: number; uncovered: number } {
    const one = (sql: string): number => this.db.prepare(sql).pluck().get() as number;
    // One pass over the connector spaces for three of the counts.
    const cs = this.db
      .prepare(
        `SELECT COALESCE(SUM(mv_id IS NOT NULL AND link_kind = 'provisioning'), 0) AS provisioned, COALESCE(SUM(mv_id IS NOT NULL AND link_kind = 'join'), 0) AS joined,
           COALESCE(SUM(mv_id IS NULL AND owned = 1), 0) AS orphans FROM cs_object`,
      )
      .get() as { provisioned: number; joined: number; orphans: number };
    return {
      ...cs,
      conflicts: one('SELECT COUNT(*) FROM address_conflict'),
      uncovered: one(
        "SELECT COUNT(*) FROM mv_object m WHERE NOT EXISTS (SELECT 1 FROM cs_object c WHERE c.mv_id = m.id AND c.link_kind IN ('provisioning', 'join'))",
      ),
    };
  }

  /** Objects dirbridge created that no longer stand for anyone: unlinked, but still in a connector space as owned. */
  reportOrphans(limit = -1, offset = 0): ReportOrphan[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.agent, c.dn, (SELECT detail FROM lineage l WHERE l.cs_id = c.id ORDER BY l.id DESC LIMIT 1) AS last
         FROM cs_object c WHERE c.mv_id IS NULL AND c.owned = 1 ORDER BY c.agent, c.dn LIMIT ? OFFSET ?`,
      )
      .all(limit, offset) as { agent: string; dn: string; last: string | null }[];
    return rows.map((r) => ({ agent: r.agent, contact: r.dn, why: r.last ?? 'created by dirbridge, linked to nothing' }));
  }
}
