/**
 * `dirbridge preview OBJECT`: what a sync would do to one object and why, rule by rule. It runs the
 * deciding code of a sync step (so the preview cannot drift from what a run does) over a read-only
 * store, with each decision laid over it instead of written: nothing is written, and a read-only
 * store is enough.
 */
import type { LoadedConfig } from '../config/load.js';
import { Inspector } from '../metaverse/inspect.js';
import type { ChangeLogEntry, Store } from '../metaverse/store.js';
import { emptyStats, type CsRow, type PendingExport } from '../model/objects.js';
import { mailSourceAttributes } from '../rules/provisioning.js';
import { parseDn } from '../util/dn.js';
import type { ObjectProblem } from '../model/problems.js';
import type { TraceLine } from './context.js';
import { Decisions } from './sync/index.js';
import { Overlay } from './sync/overlay.js';

export interface PreviewResult {
  query: string;
  /** How the query was read: as a DN, an anchor or a mail address. */
  matchedBy: 'dn' | 'anchor' | 'mail';
  /** The connector-space objects a sync would process for it. */
  objects: { agent: string; dn: string; anchor: string | null; mvId: number | null }[];
  trace: TraceLine[];
  /** Metaverse and connector-space changes the sync would make, values before and after; new objects have negative ids. */
  changes: ChangeLogEntry[];
  /** Exports the sync would stage (or replace), and those it would withdraw. */
  exports: { staged: PendingExport[]; withdrawn: PendingExport[] };
  problems: ObjectProblem[];
}

export class PreviewNotFoundError extends Error {}

export function preview(loaded: LoadedConfig, store: Store, query: string): PreviewResult {
  const { matchedBy, found } = findObjects(loaded, store, query.trim());
  if (!found.length)
    throw new PreviewNotFoundError(
      `no object matches "${query}" as a ${matchedBy} in any connector space (a DN, an anchor, or a mail address; run an import first if it is new)`,
    );
  const targets = sourcesOf(loaded, store, found);
  const overlay = new Overlay(store);
  for (const cs of targets) {
    // Each object as the sync step of its agent would see it, after what the ones before it decided.
    const decisions = new Decisions({ config: loaded.config, view: overlay, sink: overlay, stats: emptyStats(), tracing: true });
    try {
      decisions.syncObject(cs.id);
    } catch (e) {
      // As in a run, where a failure costs that object alone.
      overlay.apply({ kind: 'report', severity: 'error', object: cs.dn, code: 'sync-failed', message: (e as Error).message });
    }
    decisions.recheckBlockedByDn(); // as a sync step ends: a DN still held is a dn-collision
  }
  return {
    query,
    matchedBy,
    objects: targets.map((c) => ({ agent: c.agent, dn: c.dn, anchor: c.anchor, mvId: c.mvId })),
    trace: overlay.trace,
    changes: overlay.changes,
    exports: overlay.exports(Object.keys(loaded.config.agents)),
    problems: overlay.problems,
  };
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
