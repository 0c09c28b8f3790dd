/**
 * `dirbridge preview OBJECT`: what a sync would do to one object and why, rule by rule. It runs the
 * real synchronizer (so the preview cannot drift from what a run does) inside a transaction that is
 * always rolled back, with a tracer that records each decision; nothing is written.
 */
import type { LoadedConfig } from '../config/load.js';
import { Inspector } from '../metaverse/inspect.js';
import type { Store } from '../metaverse/store.js';
import type { CsRow, PendingExport } from '../metaverse/types.js';
import { mailSourceAttributes } from '../rules/provisioning.js';
import { parseDn } from '../util/dn.js';
import { StepContext, type TraceLine } from './context.js';
import { Synchronizer } from './sync.js';

export interface PreviewResult {
  query: string;
  /** How the query was read: as a DN, an anchor or a mail address. */
  matchedBy: 'dn' | 'anchor' | 'mail';
  /** The connector-space objects a sync would process for it. */
  objects: { agent: string; dn: string; anchor: string | null; mvId: number | null }[];
  trace: TraceLine[];
  /** Metaverse and connector-space changes the sync would make, values before and after. */
  changes: ReturnType<Store['changesOfRun']>;
  /** Exports the sync would stage (or replace), and those it would withdraw. */
  exports: { staged: PendingExport[]; withdrawn: PendingExport[] };
  problems: StepContext['problems'];
}

export class PreviewNotFoundError extends Error {}

const ROLLBACK = Symbol('preview rollback');

export function preview(loaded: LoadedConfig, store: Store, query: string): PreviewResult {
  const { matchedBy, found } = findObjects(loaded, store, query.trim());
  if (!found.length) throw new PreviewNotFoundError(`no object matches "${query}" as a ${matchedBy} in any connector space (a DN, an anchor, or a mail address; run an import first if it is new)`);
  const targets = sourcesOf(loaded, store, found);
  const agents = Object.keys(loaded.config.agents);
  const exportsBefore = new Map(agents.flatMap((a) => store.pendingExports(a)).map((p) => [p.csId, p]));
  let result: PreviewResult | undefined;
  try {
    store.transaction(() => {
      const runId = store.startRun('preview');
      const trace: TraceLine[] = [];
      const problems: StepContext['problems'] = [];
      for (const [i, cs] of targets.entries()) {
        const ctx = new StepContext(loaded, store, { runId, stepId: store.startStep(runId, i + 1, cs.agent, 'full-sync') }, cs.agent);
        ctx.tracer = (line) => trace.push(line);
        const sync = new Synchronizer(ctx);
        sync.syncOne(cs.id);
        sync.recheckBlockedByDn(); // as a sync step ends: a DN still held is a dn-collision
        problems.push(...ctx.problems);
      }
      const after = agents.flatMap((a) => store.pendingExports(a));
      const afterIds = new Set(after.map((p) => p.csId));
      result = {
        query,
        matchedBy,
        objects: targets.map((c) => ({ agent: c.agent, dn: c.dn, anchor: c.anchor, mvId: c.mvId })),
        trace,
        changes: store.changesOfRun(runId),
        exports: {
          staged: after.filter((p) => JSON.stringify(p) !== JSON.stringify(exportsBefore.get(p.csId))),
          withdrawn: [...exportsBefore.values()].filter((p) => !afterIds.has(p.csId)),
        },
        problems,
      };
      throw ROLLBACK;
    });
  } catch (e) {
    if (e !== ROLLBACK) throw e;
  }
  return result!;
}

function findObjects(loaded: LoadedConfig, store: Store, q: string): { matchedBy: PreviewResult['matchedBy']; found: CsRow[] } {
  if (q.includes('@') && !q.includes('=')) {
    const viaMv = store.findMv('mail', q.toLowerCase()).flatMap((id) => store.connectorsOf(id));
    // Sources not yet synchronized are found through the attributes their mail flows from.
    const unsynced = Object.entries(loaded.config.rules).flatMap(([agent, rules]) =>
      rules.project ? mailSourceAttributes(rules).flatMap((attr) => store.findDisconnectors(agent, attr.toLowerCase(), q)) : [],
    );
    return { matchedBy: 'mail', found: [...viaMv, ...unsynced] };
  }
  return { matchedBy: q.includes('=') && isDn(q) ? 'dn' : 'anchor', found: new Inspector(store).resolveCs(undefined, q) };
}

function isDn(q: string): boolean {
  try {
    return parseDn(q).length > 0;
  } catch {
    return false;
  }
}

/**
 * A sync starts from the objects that feed the metaverse: a contact is previewed through the person
 * it stands for. Objects not linked to anything are previewed as they are.
 */
function sourcesOf(loaded: LoadedConfig, store: Store, found: CsRow[]): CsRow[] {
  const out = new Map<number, CsRow>();
  for (const cs of found) {
    if (cs.mvId === null) {
      out.set(cs.id, cs);
      continue;
    }
    const connectors = store.connectorsOf(cs.mvId);
    const sources = connectors.filter((c) => loaded.config.rules[c.agent]?.project);
    for (const c of sources.length ? sources : [cs]) out.set(c.id, c);
  }
  return [...out.values()];
}
