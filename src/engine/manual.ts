/**
 * What an operator decides where the rules cannot (MIM's Joiner): join a connector-space object to a
 * metaverse object by hand, disconnect one by hand, and discard deletions held by the guards after
 * review. Each is a run of its own in the history (who, when, why), takes the run lock, writes lineage
 * and the change log, and is all or nothing.
 *
 * Ownership is respected: joining by hand never makes an object dirbridge's to delete (it keeps
 * whether dirbridge created it); an object disconnected by hand, or whose deletion was discarded,
 * stays in its directory, and no rule joins or deletes it until an operator joins it again.
 */
import type { LoadedConfig } from '../config/load.js';
import { Inspector } from '../metaverse/inspect.js';
import type { Store } from '../metaverse/store.js';
import { type CsRow, emptyStats, type RunOrigin, type StepRef } from '../model/objects.js';
import { acquireRunLock } from './lock.js';
import { configFingerprint, openStore } from './runner.js';

/** The operator's request cannot be carried out as asked: nothing was changed. */
export class ManualChangeRefused extends Error {
  constructor(
    message: string,
    /** What it names is not there (an object, a metaverse object). */
    readonly notFound = false,
  ) {
    super(message);
  }
}

export interface ManualResult {
  runId: number;
  /** One line per object changed. */
  changed: string[];
}

function oneCs(store: Store, agent: string, query: string): CsRow {
  const found = new Inspector(store).resolveCs(agent, query);
  if (!found.length) throw new ManualChangeRefused(`no object "${query}" in the connector space of ${agent} (by anchor or DN)`, true);
  if (found.length > 1) throw new ManualChangeRefused(`"${query}" names ${found.length} objects of ${agent}; give the anchor`);
  return found[0]!;
}

/** Runs `change` as a run of its own (profile `name`) under the lock, in one transaction. */
function manualRun(loaded: LoadedConfig, name: string, agent: string, origin: RunOrigin, change: (store: Store, step: StepRef) => string[]): ManualResult {
  const lock = acquireRunLock(loaded.path(loaded.config.metaverse.file), name);
  try {
    const store = openStore(loaded);
    try {
      store.closeAbandonedRuns('stopped-interrupted');
      const runId = store.startRun(name, undefined, configFingerprint(loaded), origin);
      const stepId = store.startStep(runId, 1, agent, name);
      const stats = emptyStats();
      try {
        const changed = store.transaction(() => change(store, { runId, stepId }));
        stats.updates = changed.length;
        store.finishStep(stepId, 'success', stats, changed.join('; ').slice(0, 2000) || undefined);
        store.finishRun(runId, 'success');
        return { runId, changed };
      } catch (e) {
        // A refused request changed nothing and is kept as such (someone asked, and why not); anything
        // else is a failed run.
        const status = e instanceof ManualChangeRefused ? 'refused' : 'stopped-error';
        stats.errors = 1;
        store.finishStep(stepId, status, stats, (e as Error).message);
        store.finishRun(runId, status);
        throw e;
      }
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

const by = (origin: RunOrigin, reason: string): string => `by hand by ${origin.user}@${origin.host}: ${reason}`;

/**
 * Joins a disconnector of `agent` to a metaverse object. Refused when the object is linked already,
 * when the metaverse object already has a connector in that agent, or when its type is not the one the
 * agent's rules link to. The next synchronization flows its values.
 */
export function joinByHand(loaded: LoadedConfig, o: { agent: string; object: string; mv: string; reason: string; origin: RunOrigin }): ManualResult {
  return manualRun(loaded, 'manual-join', o.agent, o.origin, (store, step) => {
    const cs = oneCs(store, o.agent, o.object);
    if (cs.mvId !== null)
      throw new ManualChangeRefused(`${cs.dn} is linked to metaverse object #${cs.mvId} already; disconnect it first (dirbridge cs disconnect)`);
    const ids = new Inspector(store).resolveMv(o.mv);
    if (ids.length !== 1)
      throw new ManualChangeRefused(
        ids.length ? `"${o.mv}" names ${ids.length} metaverse objects (#${ids.join(', #')}); give one by #id` : `no metaverse object matches "${o.mv}"`,
        !ids.length,
      );
    const mv = store.getMv(ids[0]!)!;
    const expected = loaded.config.rules[o.agent]?.objectType;
    if (expected && mv.objectType !== expected) throw new ManualChangeRefused(`${o.agent} links ${expected} objects; #${mv.id} is a ${mv.objectType}`);
    const other = store.connectorsOf(mv.id).find((c) => c.agent === o.agent);
    if (other) throw new ManualChangeRefused(`#${mv.id} already has ${other.dn} in ${o.agent}; disconnect that one first`);
    const pending = store.getPendingExport(cs.id);
    if (pending?.operation === 'delete') store.removePendingExport(cs.id);
    store.setExplicitDisconnect(cs.id, false);
    store.link(step, cs, mv.id, 'join', cs.owned, `joined ${by(o.origin, o.reason)}`);
    // The next sync of the agent takes it up, so its values flow both ways.
    store.setPendingImport(cs.id, 'update');
    store.logChange(step, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, 'manual-join', { dn: cs.dn }, { dn: cs.dn, mv: `#${mv.id}`, reason: o.reason });
    return [`${cs.dn} joined to ${mv.objectType} #${mv.id}${pending?.operation === 'delete' ? ' (its pending deletion withdrawn)' : ''}`];
  });
}

/**
 * Disconnects a contact-side object from its metaverse object and keeps it from rules: it stays in
 * its directory, and no join rule takes it again. An object an agent projects (a person's source) is
 * refused: its metaverse object would go with it; change the scope rules or the directory instead.
 */
export function disconnectByHand(loaded: LoadedConfig, o: { agent: string; object: string; reason: string; origin: RunOrigin }): ManualResult {
  return manualRun(loaded, 'manual-disconnect', o.agent, o.origin, (store, step) => {
    const cs = oneCs(store, o.agent, o.object);
    if (cs.mvId === null) throw new ManualChangeRefused(`${cs.dn} is linked to no metaverse object`);
    if (cs.linkKind === 'projection' || loaded.config.rules[o.agent]?.project)
      throw new ManualChangeRefused(
        `${cs.dn} is a source object of ${o.agent} (the agent projects): disconnecting it would delete its metaverse object; change the scope rules or the directory instead`,
      );
    if (cs.provisioned)
      throw new ManualChangeRefused(
        `${cs.dn} is not in ${o.agent} yet (dirbridge created it and has not exported it): there is nothing to keep; change the rules instead`,
      );
    const mvId = cs.mvId;
    const pending = store.getPendingExport(cs.id);
    if (pending) store.removePendingExport(cs.id);
    store.unlink(step, cs, 'manual-disconnect', `disconnected ${by(o.origin, o.reason)}`);
    store.setExplicitDisconnect(cs.id, true);
    // The person still stands: the next delta sync decides again what they get in this agent (a new
    // contact, or a collision report while this one holds the DN), not only the next full sync.
    for (const source of store.connectorsOf(mvId))
      if (source.linkKind === 'projection' && source.pendingImport === null) store.setPendingImport(source.id, 'update');
    store.logChange(step, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, 'manual-disconnect', { dn: cs.dn, mv: `#${mvId}` }, { dn: cs.dn, reason: o.reason });
    return [`${cs.dn} disconnected from #${mvId}${pending ? ` (its pending ${pending.operation} withdrawn)` : ''}`];
  });
}

/**
 * Discards pending deletions of `agent` after review (all of them, or those of the objects named):
 * the objects stay in their directory as objects disconnected by hand, so no later run deletes them.
 * For a deletion that should happen, run the profile with --allow-deletes instead.
 */
export function discardDeletions(loaded: LoadedConfig, o: { agent: string; objects: string[]; reason: string; origin: RunOrigin }): ManualResult {
  return manualRun(loaded, 'discard-deletions', o.agent, o.origin, (store, step) => {
    const targets = o.objects.length
      ? o.objects.map((q) => oneCs(store, o.agent, q))
      : store
          .pendingExports(o.agent)
          .filter((pe) => pe.operation === 'delete')
          .map((pe) => store.getCs(pe.csId)!);
    const changed: string[] = [];
    for (const cs of targets) {
      const pending = store.getPendingExport(cs.id);
      if (pending?.operation !== 'delete')
        throw new ManualChangeRefused(`${cs.dn} has no pending deletion${pending ? ` (its pending export is ${pending.operation})` : ''}`);
      store.removePendingExport(cs.id);
      if (cs.mvId !== null) store.unlink(step, cs, 'manual-disconnect', `deletion discarded ${by(o.origin, o.reason)}`);
      else {
        // Its metaverse object is gone: the lineage still names the one it last stood for.
        const last = store.lastLinkedMv(cs.id);
        if (last !== undefined) store.lineage(step, cs, last, 'deletion-discarded', cs.owned, `deletion discarded ${by(o.origin, o.reason)}`);
      }
      store.setExplicitDisconnect(cs.id, true);
      store.logChange(step, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, 'deletion-discarded', { dn: cs.dn, pending: 'delete' }, { dn: cs.dn, reason: o.reason });
      changed.push(`${cs.dn}: deletion discarded, the object stays`);
    }
    if (!changed.length) throw new ManualChangeRefused(`no deletion is pending for ${o.agent}`);
    return changed;
  });
}
