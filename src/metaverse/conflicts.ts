/** Open address conflicts: people who get no contact because another object holds their address. */
import type { MvRow, StepRef } from '../model/objects.js';
import type { ChangeLog } from './change-log.js';
import { type Db, json, now } from './db.js';

export class AddressConflicts {
  constructor(
    private readonly q: Db,
    private readonly log: ChangeLog,
  ) {}

  /**
   * Records that an MV object gets no contact in `agent` because others hold its address. True when
   * this is news (no conflict was recorded, or it was for another address): only then is it reported.
   */
  openAddressConflict(step: StepRef, mv: MvRow, agent: string, mail: string, others: string[]): boolean {
    const known = this.q.prepare('SELECT mail FROM address_conflict WHERE mv_id = ? AND agent = ?').pluck().get(mv.id, agent) as string | undefined;
    if (known !== undefined && known.toLowerCase() === mail.toLowerCase()) return false;
    this.q
      .prepare('INSERT OR REPLACE INTO address_conflict (mv_id, agent, mail, others, run_id, found_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(mv.id, agent, mail, json(others), step.runId, now());
    this.log.logChange(step, 'mv', null, mv.id, mv.objectType, 'address-conflict', undefined, { agent, mail, others });
    return true;
  }

  /** The conflict of this MV object in `agent` ended (one side went, or the address changed). */
  closeAddressConflict(step: StepRef, mv: MvRow, agent: string, why: string): void {
    const row = this.q.prepare('DELETE FROM address_conflict WHERE mv_id = ? AND agent = ? RETURNING mail, others').get(mv.id, agent) as
      { mail: string; others: string } | undefined;
    if (row)
      this.log.logChange(
        step,
        'mv',
        null,
        mv.id,
        mv.objectType,
        'address-conflict-resolved',
        { agent, mail: row.mail, others: JSON.parse(row.others) as string[] },
        { why },
      );
  }

  addressConflicts(): { mvId: number; agent: string; mail: string; others: string[]; runId: number | null; foundAt: string }[] {
    const rows = this.q.prepare('SELECT mv_id, agent, mail, others, run_id, found_at FROM address_conflict ORDER BY found_at, mv_id').all() as {
      mv_id: number;
      agent: string;
      mail: string;
      others: string;
      run_id: number | null;
      found_at: string;
    }[];
    return rows.map((r) => ({ mvId: r.mv_id, agent: r.agent, mail: r.mail, others: JSON.parse(r.others) as string[], runId: r.run_id, foundAt: r.found_at }));
  }
}
