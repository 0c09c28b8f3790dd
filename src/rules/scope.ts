/** Scoping: which connector-space objects the rules of an agent consider at all. */
import type { AttributeMap } from '../model/objects.js';
import type { ScopeCondition } from '../config/schema.js';
import { isExchangeMailbox } from './recipient.js';

export interface ScopeDecision {
  inScope: boolean;
  reason: string;
}

/**
 * `foreignStamps` are the ownership stamps dirbridge writes into other agents' objects: for an agent
 * that projects people, an object carrying one was written by dirbridge and is never a person (the
 * loop guard that keeps a contact from coming back as a person of the other kind).
 */
export function evaluateScope(
  attributes: AttributeMap,
  conditions: readonly ScopeCondition[],
  foreignStamps: readonly { attribute: string; value: string }[] = [],
): ScopeDecision {
  for (const stamp of foreignStamps) {
    if (carriesStamp(attributes, stamp)) return { inScope: false, reason: `carries dirbridge's ownership stamp ${stamp.attribute}=${stamp.value}` };
  }
  for (const c of conditions) {
    if ('exchangeMailbox' in c) {
      const mailbox = isExchangeMailbox(attributes);
      if (mailbox !== c.exchangeMailbox)
        return {
          inScope: false,
          reason: mailbox
            ? 'is an Exchange mailbox'
            : 'is not an Exchange mailbox (no homeMDB, msExchMailboxGuid or mailbox msExchRecipientTypeDetails; no Exchange Online mailboxPurpose)',
        };
      continue;
    }
    const values = (attributes[c.attribute.toLowerCase()] ?? []).map((v) => v.toLowerCase());
    if (c.present !== undefined && values.length > 0 !== c.present) {
      return { inScope: false, reason: `${c.attribute} is ${c.present ? 'absent' : 'present'}` };
    }
    if (c.equals !== undefined && !values.includes(c.equals.toLowerCase())) return { inScope: false, reason: `${c.attribute} is not "${c.equals}"` };
    if (c.notEquals !== undefined && values.includes(c.notEquals.toLowerCase())) return { inScope: false, reason: `${c.attribute} is "${c.notEquals}"` };
    if (c.endsWith !== undefined && !values.some((v) => v.endsWith(c.endsWith!.toLowerCase())))
      return { inScope: false, reason: `${c.attribute} does not end with "${c.endsWith}"` };
  }
  return { inScope: true, reason: 'all scope conditions hold' };
}

export function carriesStamp(attributes: AttributeMap, ownership: { attribute: string; value: string }): boolean {
  return (attributes[ownership.attribute.toLowerCase()] ?? []).includes(ownership.value);
}
