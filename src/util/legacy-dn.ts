/**
 * legacyExchangeDN values for the contacts dirbridge creates. Outlook remembers the X.500 address
 * (the legacyExchangeDN) of every recipient it has mailed, and a reply to an old message goes to that
 * address: it must never change while the contact lives, and must come back the same if the contact
 * is created again for the same person (a move undone). So it is derived from what names the person
 * for good (the target agent, and the source agent and anchor of the person's own document), never
 * from a name that a rename changes, nor from chance.
 */
import { createHash } from 'node:crypto';

/** `<prefix>/cn=<32 hex digits>`: the form Exchange gives recipients, unique per person and target. */
export function stableLegacyExchangeDn(prefix: string, seed: string): string {
  const id = createHash('sha256').update(seed).digest('hex').slice(0, 32);
  return `${prefix.replace(/\/+$/, '')}/cn=${id}`;
}

/** The proxy address that carries a legacyExchangeDN. */
export const x500Proxy = (legacyExchangeDn: string): string => `X500:${legacyExchangeDn}`;

export const isX500Proxy = (value: string): boolean => /^x500:/i.test(value);
