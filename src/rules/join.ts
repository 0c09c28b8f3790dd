/** Join: link a connector-space object to an existing metaverse object instead of projecting a new one. */
import type { AttributeMap } from '../model/objects.js';
import type { JoinRule } from '../config/schema.js';
import { lookupValues } from '../model/values.js';

/** The index key a join rule searches connector spaces on ("attribute" or "attribute#smtp"). */
export function csIndexKey(rule: JoinRule): string {
  return rule.transform === 'smtp' ? `${rule.cs.toLowerCase()}#smtp` : rule.cs.toLowerCase();
}

/** Values of the connector object to look up in the MV attribute of the rule, case-folded. */
export function joinValues(csAttributes: AttributeMap, rule: JoinRule): string[] {
  return lookupValues(csAttributes[rule.cs.toLowerCase()], rule.transform === 'smtp' ? 'smtp' : 'none');
}

export type JoinDecision =
  | { kind: 'join'; target: number; rule: number; reason: string }
  | { kind: 'ambiguous'; candidates: number[]; rule: number; reason: string }
  | { kind: 'none'; reason: string };

/**
 * Rules are tried in order; the first rule that finds exactly one candidate joins. A rule that finds
 * several stops the search: joining the wrong person is worse than joining none.
 */
export function decideJoin(rules: readonly JoinRule[], candidatesPerRule: readonly (readonly number[])[]): JoinDecision {
  for (let i = 0; i < rules.length; i++) {
    const c = [...new Set(candidatesPerRule[i] ?? [])];
    const r = rules[i]!;
    if (c.length === 1) return { kind: 'join', target: c[0]!, rule: i, reason: `join rule ${i + 1} (${r.cs} = ${r.mv}) found one match` };
    if (c.length > 1) return { kind: 'ambiguous', candidates: c, rule: i, reason: `join rule ${i + 1} (${r.cs} = ${r.mv}) found ${c.length} matches` };
  }
  return { kind: 'none', reason: rules.length ? 'no join rule found a match' : 'the agent has no join rules' };
}
