/**
 * The deletion check of a delta import, for directories whose change stream cannot show a deletion
 * (Domino has no change log; a modification time says nothing about an entry that is gone). The
 * agent reads its view (base, scope, filter) asking for the anchor alone, and the anchors are
 * compared with the connector space: an object it no longer returns was deleted, moved out of the
 * base or no longer matches the filter. Nothing is written for an object that is still there. It
 * answers to the guards of a full import's deletions: an empty or sharply shrunk answer is refused
 * (stopped-import-shrunk, --allow-deletes), and an answer the directory cut short decides nothing.
 */
import { type Agent, IncompleteReadError } from '../agents/types.js';
import type { StepContext } from './context.js';
import { withRetries } from './retry.js';
import { refuseShrunkRead, stageDeletion } from './import-deletions.js';

/** done: compared (deletions staged, if any); skipped: not configured or not due; incomplete: the directory cut the read short. */
export type DeletionCheckOutcome = 'done' | 'skipped' | 'incomplete';

export async function runDeletionCheck(ctx: StepContext, agent: Agent): Promise<DeletionCheckOutcome> {
  const { store } = ctx;
  const wanted = agent.deletionCheck;
  if (!wanted || !agent.listAnchors) return 'skipped';
  if (wanted.everyMinutes > 0) {
    const last = store.lastDeletionCheck(agent.name);
    if (last && Date.now() - Date.parse(last.checkedAt) < wanted.everyMinutes * 60_000) return 'skipped';
  }
  const started = performance.now();
  const took = (): number => Math.round(performance.now() - started);
  let missing = new Map<string, number>();
  let read = 0;
  try {
    // A broken connection starts the read again: only a read that reached the end may decide what is gone.
    await withRetries(ctx, agent, agent.name, `deletion check of ${agent.name}`, async () => {
      read = 0;
      // What the connector space knows, less each anchor the directory still returns: what is left is gone.
      missing = store.importedAnchors(agent.name);
      for await (const page of agent.listAnchors!()) {
        for (const anchor of page.anchors) missing.delete(anchor);
        // An entry whose anchor cannot be read is still there: its object (known by DN) is not gone.
        for (const dn of page.unreadable) for (const cs of store.getCsByDn(agent.name, dn)) if (cs.anchor !== null) missing.delete(cs.anchor);
        read += page.anchors.length + page.unreadable.length;
        ctx.progress(read);
      }
    });
  } catch (e) {
    if (!(e instanceof IncompleteReadError)) throw e;
    ctx.stats.deletionCheckRead += read;
    ctx.stats.deletionCheckMs += took();
    ctx.warning(agent.name, undefined, 'incomplete-read', `${e.message}. No object was taken as deleted, and the delta import's watermark was not advanced`);
    return 'incomplete';
  }
  ctx.stats.deletionCheckRead += read;
  const unseen = [...missing.values()];
  refuseShrunkRead(ctx, agent.name, 'deletion check', read, unseen.length);
  store.transaction(() => {
    for (const id of unseen) {
      const cs = store.getCs(id);
      if (!cs || cs.pendingImport === 'delete') continue;
      stageDeletion(ctx, cs);
      ctx.stats.deletionCheckGone++;
    }
    store.recordDeletionCheck(ctx.ref, agent.name, read, unseen.length);
  });
  ctx.stats.deletionCheckMs += took();
  return 'done';
}
