/**
 * What the imports share when they decide that objects are gone: which objects a read saw, the
 * guard against taking a short answer as mass departure, and the staging of a deletion.
 */
import type { CsRow } from '../model/objects.js';
import type { StepContext } from './context.js';
import { StepStoppedError } from './status.js';

/** Connector-space ids a read saw: a bitset by id, not a store write per object. */
export class SeenSet {
  private bits = new Uint8Array(1024);

  add(id: number): void {
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte]! |= 1 << (id & 7);
  }

  has(id: number): boolean {
    return ((this.bits[id >>> 3] ?? 0) & (1 << (id & 7))) !== 0;
  }
}

/**
 * An empty or sharply shrunk answer is more often a fault (a wrong filter, a bind account that lost
 * its rights, an OU emptied by mistake) than a real mass departure: it is not taken as deletions
 * unless the operator allows that many for this run. `read` names the read ("full import",
 * "deletion check").
 */
export function refuseShrunkRead(ctx: StepContext, agent: string, read: string, seen: number, wouldDelete: number): void {
  if (wouldDelete === 0) return;
  const held = ctx.store.countImportedCs(agent);
  const percent = ctx.config.safety.fullImportShrinkPercent;
  const empty = seen === 0;
  const shrunk = held >= 10 && (wouldDelete * 100) / held > percent;
  if (!empty && !shrunk) return;
  if (wouldDelete <= ctx.run.allowDeletes) return;
  const what = empty
    ? 'returned no objects at all'
    : `returned ${seen} objects and would remove ${wouldDelete} of the ${held} the connector space holds (more than safety.fullImportShrinkPercent, ${percent}%)`;
  throw new StepStoppedError(
    'stopped-import-shrunk',
    `the ${read} of ${agent} ${what}; it was not taken as ${wouldDelete} deletions and its watermark was not advanced. Check the agent's baseDn, filter and bind account (for a file agent: that its file is there and complete); if the directory really lost these objects, run again with --allow-deletes ${wouldDelete}`,
  );
}

/** The object left the directory (or the agent's view): the sync decides what that means. */
export function stageDeletion(ctx: StepContext, cs: CsRow): void {
  const { store } = ctx;
  if (cs.pendingImport === 'delete') return;
  if (cs.pendingImport === 'add' && cs.mvId === null) {
    store.deleteCs(ctx.ref, cs, 'import-delete'); // never synced: nothing else refers to it
  } else {
    store.setPendingImport(cs.id, 'delete');
    store.logChange(ctx.ref, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, 'import-delete', { dn: cs.dn }, undefined);
  }
  ctx.stats.deletes++;
}
