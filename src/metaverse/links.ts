/** Links between connector-space and metaverse objects, and their lineage: who linked what, when, why. */
import type { CsRow, LinkKind, StepRef } from '../model/objects.js';
import { type Db, now } from './db.js';

const LINK = 'UPDATE cs_object SET mv_id = ?, link_kind = ?, linked_run = ?, linked_at = ?, owned = ? WHERE id = ?';
const LINK_SYNCHRONIZED = 'UPDATE cs_object SET mv_id = ?, link_kind = ?, linked_run = ?, linked_at = ?, owned = ?, pending_import = NULL WHERE id = ?';

export class Links {
  constructor(private readonly q: Db) {}

  /**
   * Links a CS object to an MV object; only the fields lineage records are read (a row just inserted
   * need not be fetched again). `synchronized`: the link is what the sync makes of the object's
   * imported change, which is then cleared in the same statement rather than a second one.
   */
  link(
    step: StepRef | undefined,
    cs: Pick<CsRow, 'id' | 'agent' | 'anchor' | 'dn'>,
    mvId: number,
    kind: LinkKind,
    owned: boolean,
    detail?: string,
    synchronized = false,
    /** The lineage event, when it says more than the link's kind (a person's document joined to their mailbox: "migrated"). */
    event: string = kind,
  ): void {
    const t = now();
    this.q.prepare(synchronized ? LINK_SYNCHRONIZED : LINK).run(mvId, kind, step?.runId ?? null, t, owned ? 1 : 0, cs.id);
    this.lineage(step, cs, mvId, event, owned, detail);
  }

  unlink(step: StepRef | undefined, cs: CsRow, event: string, detail: string): void {
    if (cs.mvId === null) return;
    this.q.prepare('UPDATE cs_object SET mv_id = NULL, link_kind = NULL, linked_run = NULL, linked_at = NULL WHERE id = ?').run(cs.id);
    this.lineage(step, cs, cs.mvId, event, cs.owned, detail);
  }

  lineage(step: StepRef | undefined, cs: Pick<CsRow, 'id' | 'agent' | 'anchor' | 'dn'>, mvId: number, event: string, owned: boolean, detail?: string): void {
    this.q
      .prepare('INSERT INTO lineage (run_id, agent, cs_id, anchor, dn, mv_id, event, owned, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(step?.runId ?? null, cs.agent, cs.id, cs.anchor, cs.dn, mvId, event, owned ? 1 : 0, detail ?? null, now());
  }

  /** The metaverse object a connector-space object was last linked to, by the lineage. */
  lastLinkedMv(csId: number): number | undefined {
    return this.q.prepare('SELECT mv_id FROM lineage WHERE cs_id = ? ORDER BY id DESC LIMIT 1').pluck().get(csId) as number | undefined;
  }

  lineageOf(mvId: number): {
    runId: number | null;
    agent: string;
    csId: number;
    anchor: string | null;
    dn: string;
    event: string;
    owned: boolean;
    detail: string | null;
    at: string;
  }[] {
    return (
      this.q
        .prepare('SELECT run_id AS runId, agent, cs_id AS csId, anchor, dn, event, owned, detail, at FROM lineage WHERE mv_id = ? ORDER BY id')
        .all(mvId) as { owned: number }[]
    ).map((r) => ({ ...r, owned: r.owned === 1 })) as never;
  }
}
