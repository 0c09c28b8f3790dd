/** Object deletion rules and deprovisioning: what a disconnect or an MV deletion does to the rest. */
import type { AttributeMap } from '../model/objects.js';
import type { AgentRules } from '../config/schema.js';
import { carriesStamp } from './scope.js';

/** MIM's object deletion rule: delete the MV object when its connector from one of these agents goes. */
export function deletesMvObject(deleteWhenDisconnectedFrom: readonly string[], disconnectedAgent: string): boolean {
  return deleteWhenDisconnectedFrom.includes(disconnectedAgent);
}

export type DeprovisionAction = { kind: 'delete'; reason: string } | { kind: 'disconnect'; reason: string; warning?: string };

/**
 * dirbridge deletes only what it created: the lineage must say so (owned) AND the object must still
 * carry the ownership stamp. A hand-made contact that was joined is only disconnected, never deleted.
 */
export function deprovisionAction(connector: { owned: boolean; attributes: AttributeMap }, rules: AgentRules | undefined): DeprovisionAction {
  if (!rules) return { kind: 'disconnect', reason: 'the agent has no rules' };
  if (!connector.owned) return { kind: 'disconnect', reason: 'dirbridge did not create this object: it is left in place' };
  if (rules.deprovision === 'disconnect') return { kind: 'disconnect', reason: 'the agent deprovisions by disconnecting' };
  if (!rules.ownership || !carriesStamp(connector.attributes, rules.ownership)) {
    return {
      kind: 'disconnect',
      reason: 'the ownership stamp is missing from the object',
      warning: `created by dirbridge but no longer carries ${rules.ownership?.attribute ?? 'the ownership stamp'}; left in place for an administrator to review`,
    };
  }
  return { kind: 'delete', reason: 'created by dirbridge and its person is gone' };
}
