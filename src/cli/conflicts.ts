/**
 * `dirbridge conflicts`: the address conflicts that are open now. Each was reported once, in the run
 * that found it; this is where an administrator sees the ones still waiting (people being migrated).
 */
import type { Store } from '../metaverse/store.js';

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

export function conflictLines(store: Store): ConflictLine[] {
  return store.addressConflicts().map((c) => {
    const mv = store.getMv(c.mvId);
    return {
      mvId: c.mvId,
      objectType: mv?.objectType ?? '',
      source: store.connectorsOf(c.mvId).map((cs) => `${cs.dn} (${cs.agent})`).join('; '),
      agent: c.agent,
      mail: c.mail,
      others: c.others.join('; '),
      runId: c.runId,
      foundAt: c.foundAt,
    };
  });
}
