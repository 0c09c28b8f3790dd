/** Moves of people from one side to the other (a Domino person migrated to an Exchange mailbox). */
import type { StepRef } from '../model/objects.js';
import type { PersonMove } from '../model/moves.js';
import type { ChangeLog } from './change-log.js';
import { type Db, json, now } from './db.js';

export type { PersonMove };

export interface PersonMoveRow extends PersonMove {
  id: number;
  runId: number | null;
  at: string;
}

const COLUMNS = `id, run_id AS runId, at, person_mv AS personMv, person_label AS personLabel, doc_agent AS docAgent, doc_cs AS docCs,
  doc_dn AS docDn, doc_anchor AS docAnchor, mailbox_mv AS mailboxMv, mailbox_label AS mailboxLabel, mailbox_agent AS mailboxAgent,
  mailbox_cs AS mailboxCs, contacts, x500, x500_written AS x500Written`;

type Raw = Omit<PersonMoveRow, 'contacts' | 'x500' | 'x500Written'> & { contacts: string; x500: string; x500Written: number };
const parsed = (r: Raw): PersonMoveRow => ({
  ...r,
  contacts: JSON.parse(r.contacts) as PersonMove['contacts'],
  x500: JSON.parse(r.x500) as string[],
  x500Written: r.x500Written === 1,
});

export class PersonMoves {
  constructor(
    private readonly q: Db,
    private readonly log: ChangeLog,
  ) {}

  recordMove(step: StepRef | undefined, m: PersonMove): void {
    this.q
      .prepare(
        `INSERT INTO person_move (run_id, at, person_mv, person_label, doc_agent, doc_cs, doc_dn, doc_anchor, mailbox_mv, mailbox_label,
           mailbox_agent, mailbox_cs, contacts, x500, x500_written) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        step?.runId ?? null,
        now(),
        m.personMv,
        m.personLabel,
        m.docAgent,
        m.docCs,
        m.docDn,
        m.docAnchor,
        m.mailboxMv,
        m.mailboxLabel,
        m.mailboxAgent,
        m.mailboxCs,
        json(m.contacts),
        json(m.x500),
        m.x500Written ? 1 : 0,
      );
    // In the change log too, on the mailbox's object: an auditor finds the move by person or mailbox.
    this.log.logChange(
      step,
      'mv',
      null,
      m.mailboxMv,
      m.mailboxLabel,
      'person-move',
      { person: m.personLabel, contacts: m.contacts.map((c) => `${c.dn} (${c.agent})`) },
      { dn: m.docDn, entry: `${m.docDn} (${m.docAgent})`, mailbox: m.mailboxLabel, x500: m.x500, x500Written: m.x500Written },
    );
  }

  /** The moves a metaverse object took part in, as the person or as the mailbox. */
  movesOf(mvId: number): PersonMoveRow[] {
    return (this.q.prepare(`SELECT ${COLUMNS} FROM person_move WHERE person_mv = ? OR mailbox_mv = ? ORDER BY id`).all(mvId, mvId) as Raw[]).map(parsed);
  }

  movesOfRun(runId: number): PersonMoveRow[] {
    return (this.q.prepare(`SELECT ${COLUMNS} FROM person_move WHERE run_id = ? ORDER BY id`).all(runId) as Raw[]).map(parsed);
  }

  /** The latest moves, newest first. */
  latestMoves(limit: number): PersonMoveRow[] {
    return (this.q.prepare(`SELECT ${COLUMNS} FROM person_move ORDER BY id DESC LIMIT ?`).all(limit) as Raw[]).map(parsed);
  }

  /** The X500 addresses dirbridge put on a mailbox: the only ones it may ever take away again. */
  x500WrittenTo(mailboxCs: number): string[] {
    const rows = this.q.prepare('SELECT x500 FROM person_move WHERE mailbox_cs = ? AND x500_written = 1').pluck().all(mailboxCs) as string[];
    return [...new Set(rows.flatMap((r) => JSON.parse(r) as string[]))];
  }
}
