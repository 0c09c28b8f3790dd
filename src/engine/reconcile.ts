/**
 * Exports whose outcome is unknown: the process died (kill -9, power loss) or the server went away
 * between sending an export and recording its result. Before sending it again, ask the directory:
 * an add whose object already stands there with dirbridge's ownership stamp happened, and is adopted
 * rather than repeated; a rename whose object already has its new DN only needs its modifications.
 * Deletions and attribute replacements are safe to repeat as they are.
 */
import type { Agent, ExportOperation, ExportResult } from '../agents/types.js';
import type { PendingExport } from '../model/objects.js';
import { carriesStamp } from '../rules/scope.js';
import type { StepContext } from './context.js';

export type Settlement = { done: ExportResult } | { send: ExportOperation };

export async function settle(ctx: StepContext, agent: Agent, pe: PendingExport, op: ExportOperation): Promise<Settlement> {
  if (!agent.readObject) return { send: op };
  if (pe.operation === 'add') {
    const there = await agent.readObject(pe.dn);
    const stamp = ctx.config.rules[agent.name]?.ownership;
    if (there && stamp && carriesStamp(there.attributes, stamp)) return { done: { dn: there.dn, anchor: there.anchor } };
    return { send: op };
  }
  if (pe.operation === 'update' && pe.newDn && op.kind === 'update') {
    const cs = ctx.store.getCs(pe.csId);
    const moved = await agent.readObject(pe.newDn);
    if (moved && (cs?.anchor == null || moved.anchor === cs.anchor)) {
      if (!Object.keys(op.changes).length && !op.valueChanges) return { done: { dn: moved.dn } };
      return { send: { kind: 'update', dn: moved.dn, changes: op.changes, ...(op.valueChanges ? { valueChanges: op.valueChanges } : {}) } };
    }
  }
  return { send: op };
}
