/**
 * The situation of a connector-space object when a sync reads it (midPoint's synchronization
 * situation): named first, so that what happens to it follows from one word. Pure.
 */
import type { AgentRules } from '../../config/schema.js';
import type { CsRow, PendingExport } from '../../model/objects.js';
import { evaluateScope, type ScopeDecision } from '../../rules/scope.js';

export type Situation =
  /** The directory no longer holds it: disconnected (if linked) and removed. */
  | { kind: 'gone' }
  /** Its agent has no rules: nothing to do. */
  | { kind: 'no-rules' }
  /** Created by dirbridge and not exported yet: its metaverse object's sync plans its add. */
  | { kind: 'waiting-export' }
  /** Its deletion is staged: nothing flows from or to it. */
  | { kind: 'deletion-pending' }
  /** Outside the agent's scope; `linked` ones are disconnected. */
  | { kind: 'out-of-scope'; linked: boolean; scope: ScopeDecision }
  /** In scope and linked: its import flows run, then its metaverse object's outbound flows. */
  | { kind: 'linked'; mvId: number; scope: ScopeDecision }
  /** In scope and linked to nothing: joined, projected, or left a disconnector. */
  | { kind: 'unlinked'; scope: ScopeDecision };

/**
 * `stamps`: dirbridge's ownership stamps, which keep a contact from being projected as a person by
 * an agent that projects. `pendingExport` is asked only when the cheaper tests leave it open.
 */
export function classify(
  cs: CsRow,
  rules: AgentRules | undefined,
  pendingExport: () => PendingExport['operation'] | undefined,
  stamps: readonly { attribute: string; value: string }[],
): Situation {
  if (cs.pendingImport === 'delete') return { kind: 'gone' };
  if (!rules) return { kind: 'no-rules' };
  if (cs.provisioned) return { kind: 'waiting-export' };
  if (pendingExport() === 'delete') return { kind: 'deletion-pending' };
  const scope = evaluateScope(cs.attributes, rules.scope, rules.project ? stamps : []);
  if (!scope.inScope) return { kind: 'out-of-scope', linked: cs.mvId !== null, scope };
  return cs.mvId !== null ? { kind: 'linked', mvId: cs.mvId, scope } : { kind: 'unlinked', scope };
}
