/**
 * Read-only questions auditors and operators ask of the store: search the metaverse, an object with
 * everything known about it, connector-space objects by state, the run history, and the address-book
 * report. Nothing here writes; it sits next to the store because SQL lives only in src/metaverse.
 */
import type { AttributeMap, PendingExport } from '../model/objects.js';
import { dnKeyOf } from './keys.js';
import type { Store } from './store.js';
import type { CsRow, MvRow, StepStats } from '../model/objects.js';

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
  runId: number | null;
  at: string;
  space: 'mv' | 'cs';
  agent: string | null;
  object: string;
  operation: string;
  before: unknown;
  after: unknown;
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
  history: ChangeEntry[];
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

export interface RunSummary {
  id: number;
  profile: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  seconds: number | null;
  steps: number;
  adds: number;
  updates: number;
  deletes: number;
  errors: number;
  warnings: number;
  allowedDeletes: number | null;
}

export interface ReportContact {
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

const like = (pattern: string): string =>
  pattern
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%');

export type RunDetail = NonNullable<ReturnType<Store['getRun']>> & {
  steps: ReturnType<Store['runSteps']>;
  errors: ReturnType<Store['runErrors']>;
  changes: ReturnType<Store['changesOfRun']>;
};

export class Inspector {
  constructor(private readonly store: Store) {}

  /** The store's statement cache: the inspector's queries are prepared once, as the store's are. */
  private get db() {
    return this.store.sql;
  }

  searchMv(options: { type?: string; conditions: AttributeCondition[]; limit: number }): MvSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
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
        `SELECT id, object_type, attributes, sources, created_run, updated_at FROM mv_object ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      )
      .all(...args, options.limit) as {
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

  mvDetail(id: number): MvDetail | undefined {
    const mv = this.store.getMv(id);
    if (!mv) return undefined;
    const meta = this.db.prepare('SELECT created_run, created_at, updated_at FROM mv_object WHERE id = ?').get(id) as {
      created_run: number | null;
      created_at: string;
      updated_at: string;
    };
    const connectors = this.store.connectorsOf(id);
    const history = [...this.changes('mv', id), ...connectors.flatMap((c) => this.changes('cs', c.id))].sort((a, b) => a.at.localeCompare(b.at));
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
      history,
    };
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
    return this.store.changesOf(space, id).map((c) => ({
      runId: c.runId,
      at: c.at,
      space: c.space,
      agent: c.agent,
      object: c.objectRef,
      operation: c.operation,
      before: c.before,
      after: c.after,
    }));
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
  run(id: number): RunDetail | undefined {
    const run = this.store.getRun(id);
    return run && { ...run, steps: this.store.runSteps(id), errors: this.store.runErrors(id), changes: this.store.changesOfRun(id) };
  }

  runs(limit: number): RunSummary[] {
    const rows = this.db
      .prepare('SELECT id, profile, status, started_at, ended_at, allowed_deletes FROM run WHERE profile <> ? ORDER BY id DESC LIMIT ?')
      .all('preview', limit) as { id: number; profile: string; status: string; started_at: string; ended_at: string | null; allowed_deletes: number | null }[];
    return rows.map((r) => {
      const steps = this.store.runSteps(r.id);
      const sum = (k: keyof StepStats): number => steps.reduce((n, s) => n + (s.stats[k] ?? 0), 0);
      return {
        id: r.id,
        profile: r.profile,
        status: r.status,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        seconds: r.ended_at ? (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000 : null,
        steps: steps.length,
        adds: sum('adds'),
        updates: sum('updates'),
        deletes: sum('deletes'),
        errors: sum('errors'),
        warnings: sum('warnings'),
        allowedDeletes: r.allowed_deletes,
      };
    });
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

  /** Every contact dirbridge keeps (provisioned or joined), with the person it stands for. */
  reportContacts(): ReportContact[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.agent, c.dn, c.owned, c.link_kind, c.linked_run, c.linked_at, c.mv_id, c.attributes, m.object_type, m.attributes AS mv_attributes
         FROM cs_object c JOIN mv_object m ON m.id = c.mv_id WHERE c.link_kind IN ('provisioning', 'join') ORDER BY c.agent, c.dn`,
      )
      .all() as {
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

  /** Objects dirbridge created that no longer stand for anyone: unlinked, but still in a connector space as owned. */
  reportOrphans(): ReportOrphan[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.agent, c.dn, (SELECT detail FROM lineage l WHERE l.cs_id = c.id ORDER BY l.id DESC LIMIT 1) AS last
         FROM cs_object c WHERE c.mv_id IS NULL AND c.owned = 1 ORDER BY c.agent, c.dn`,
      )
      .all() as { agent: string; dn: string; last: string | null }[];
    return rows.map((r) => ({ agent: r.agent, contact: r.dn, why: r.last ?? 'created by dirbridge, linked to nothing' }));
  }
}
