/** A person's move from one side to the other: a Domino person migrated to an Exchange mailbox. */
export interface PersonMove {
  /** The person's metaverse object before the move (deleted by it), when there was one. */
  personMv: number | null;
  personLabel: string;
  /** The person's own document, which now stands for the mailbox on its side. */
  docAgent: string;
  docCs: number;
  docDn: string;
  docAnchor: string | null;
  mailboxMv: number;
  mailboxLabel: string;
  /** The mailbox's connector that the X500 addresses go to, when one may be written. */
  mailboxAgent: string | null;
  mailboxCs: number | null;
  /** The contacts that stood for the person and are deleted by the move. */
  contacts: { agent: string; dn: string }[];
  /** The X500 addresses the contacts had (legacyExchangeDN and X500: proxies). */
  x500: string[];
  /** Whether they were staged for the mailbox (migration.writeX500 names its agent). */
  x500Written: boolean;
}
