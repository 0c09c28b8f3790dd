/** How an object is recognised as an Exchange mailbox user: on-premises AD attributes, or Exchange Online's mailbox purpose. */
import type { AttributeMap } from '../model/objects.js';

/**
 * msExchRecipientTypeDetails values that mean a mailbox (user, linked, shared, legacy, room, equipment,
 * and the Remote* values of mailboxes moved to Exchange Online). They exceed 2^31, so they are
 * compared as BigInt, never as JS numbers.
 */
const MAILBOX_TYPES = [1n, 2n, 4n, 8n, 16n, 32n, 2147483648n, 8589934592n, 17179869184n, 34359738368n];
const MAILBOX_MASK = MAILBOX_TYPES.reduce((a, b) => a | b, 0n);

export function isExchangeMailbox(attributes: AttributeMap): boolean {
  // Exchange Online through Graph: the agent records the mailbox's userPurpose when it has one.
  if ((attributes['mailboxpurpose']?.length ?? 0) > 0) return true;
  const details = attributes['msexchrecipienttypedetails']?.[0];
  if (details !== undefined && /^-?[0-9]+$/.test(details.trim())) {
    const v = BigInt(details.trim());
    // A single type bit is set per recipient; anything outside the mailbox bits (contacts, mail users, groups) is not a mailbox.
    return v > 0n && (v & ~MAILBOX_MASK) === 0n;
  }
  return (attributes['homemdb']?.length ?? 0) > 0 || (attributes['msexchmailboxguid']?.length ?? 0) > 0;
}
