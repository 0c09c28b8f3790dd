/** The connector spaces: each agent's objects as last imported (or provisioned), with their link. */
import type { AttributeMap, CsRow, LinkKind, PendingImport, StepRef } from '../model/objects.js';
import { diffAttributes } from '../model/values.js';
import { dnKeyOf } from './keys.js';
import type { ChangeLog } from './change-log.js';
import { type Db, json, now } from './db.js';
import type { LookupIndex } from './lookup-index.js';
import { type CsDbRow, toCs } from './rows.js';

/** A connector-space object to store: its DN's key is derived from its DN. */
export type NewCsObject = Pick<CsRow, 'agent' | 'anchor' | 'dn' | 'objectClasses' | 'attributes' | 'pendingImport'> & {
  provisioned?: boolean;
  owned?: boolean;
};

export class ConnectorSpace {
  constructor(
    private readonly q: Db,
    private readonly index: LookupIndex,
    private readonly log: ChangeLog,
  ) {}

  getCs(id: number): CsRow | undefined {
    const r = this.q.prepare('SELECT * FROM cs_object WHERE id = ?').get(id) as CsDbRow | undefined;
    return r && toCs(r);
  }

  getCsByAnchor(agent: string, anchor: string): CsRow | undefined {
    const r = this.q.prepare('SELECT * FROM cs_object WHERE agent = ? AND anchor = ?').get(agent, anchor) as CsDbRow | undefined;
    return r && toCs(r);
  }

  /** Objects of the agent at this DN (compared by normalized DN key). */
  /** An agent's objects at a DN, however it is spelt (the store keys DNs by their normalized form). */
  getCsByDn(agent: string, dn: string): CsRow[] {
    return (this.q.prepare('SELECT * FROM cs_object WHERE agent = ? AND dn_key = ?').all(agent, dnKeyOf(dn)) as CsDbRow[]).map(toCs);
  }

  /**
   * What a full sync of the agent reads: every object except those provisioned and waiting for their
   * first export with no imported change (counted, not listed).
   */
  csIdsForFullSync(agent: string): { waiting: number; others: number[] } {
    // A provisioned object has no anchor yet: the condition lets the count use the anchorless index.
    const waiting = this.q
      .prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ? AND anchor IS NULL AND provisioned = 1 AND pending_import IS NULL')
      .pluck()
      .get(agent) as number;
    const others = waiting
      ? this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND NOT (provisioned = 1 AND pending_import IS NULL) ORDER BY id')
      : this.q.prepare('SELECT id FROM cs_object WHERE agent = ? ORDER BY id');
    return { waiting, others: others.pluck().all(agent) as number[] };
  }

  /** Objects of an agent with an imported change not yet synchronized: what a delta sync processes. */
  pendingImportIds(agent: string): number[] {
    return this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND pending_import IS NOT NULL ORDER BY id').pluck().all(agent) as number[];
  }

  countCs(agent: string): number {
    return this.q.prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ?').pluck().get(agent) as number;
  }

  connectorsOf(mvId: number): CsRow[] {
    return (this.q.prepare('SELECT * FROM cs_object WHERE mv_id = ? ORDER BY id').all(mvId) as CsDbRow[]).map(toCs);
  }

  insertCs(step: StepRef | undefined, o: NewCsObject): number {
    return this.insertCsRow(step, o, o.provisioned ? 'provision' : 'import-add');
  }

  insertCsRow(step: StepRef | undefined, o: NewCsObject, operation: string, link?: { mvId: number; kind: LinkKind; runId: number | null }): number {
    const t = now();
    const attributes = json(o.attributes);
    const id = Number(
      this.q
        .prepare(
          // seen_step (migration 1) is no longer used: a full import keeps what it saw in memory.
          // SQLite would give the newest deleted object's id again, and its lineage and change log
          // would read as the new object's: the id follows the highest any of them names (three
          // seeks on indexes).
          `INSERT INTO cs_object (id, agent, anchor, dn, dn_key, object_classes, attributes, pending_import, provisioned, owned, mv_id, link_kind, linked_run, linked_at, created_at, updated_at)
           VALUES (MAX(COALESCE((SELECT MAX(id) FROM cs_object), 0), COALESCE((SELECT MAX(object_id) FROM change_log WHERE space = 'cs'), 0),
             COALESCE((SELECT MAX(cs_id) FROM lineage), 0)) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          o.agent,
          o.anchor,
          o.dn,
          dnKeyOf(o.dn),
          json(o.objectClasses),
          attributes,
          o.pendingImport,
          o.provisioned ? 1 : 0,
          o.owned ? 1 : 0,
          link?.mvId ?? null,
          link?.kind ?? null,
          link?.runId ?? null,
          link ? t : null,
          t,
          t,
        ).lastInsertRowid,
    );
    this.index.indexCs(id, o.agent, undefined, o.attributes);
    // The image is logged as it was stored: its JSON is reused rather than built a second time.
    this.log.logChangeJson(step, 'cs', o.agent, id, o.anchor ?? o.dn, operation, null, `{"dn":${json(o.dn)},"attributes":${attributes}}`);
    return id;
  }

  /** Replaces the image of a CS object; logs only the attributes that changed. */
  updateCsImage(
    step: StepRef | undefined,
    before: CsRow,
    after: { anchor?: string | null; dn: string; objectClasses: string[]; attributes: AttributeMap },
    operation: string,
    pendingImport?: PendingImport | null,
  ): void {
    const anchor = after.anchor === undefined ? before.anchor : after.anchor;
    this.q
      .prepare(
        // The DN's key is derived again only when the DN changed.
        'UPDATE cs_object SET anchor = ?, dn = ?, dn_key = COALESCE(?, dn_key), object_classes = ?, attributes = ?, pending_import = COALESCE(?, pending_import), updated_at = ? WHERE id = ?',
      )
      .run(
        anchor,
        after.dn,
        after.dn === before.dn ? null : dnKeyOf(after.dn),
        json(after.objectClasses),
        json(after.attributes),
        pendingImport ?? null,
        now(),
        before.id,
      );
    this.index.indexCs(before.id, before.agent, before.attributes, after.attributes);
    const diff = diffAttributes(before.attributes, after.attributes);
    const b: Record<string, unknown> = { ...diff.before };
    const a: Record<string, unknown> = { ...diff.after };
    if (before.dn !== after.dn) {
      b.dn = before.dn;
      a.dn = after.dn;
    }
    if (before.anchor !== anchor) {
      b.anchor = before.anchor;
      a.anchor = anchor;
    }
    this.log.logChange(step, 'cs', before.agent, before.id, anchor ?? after.dn, operation, b, a);
  }

  setPendingImport(id: number, p: PendingImport | null): void {
    this.q.prepare('UPDATE cs_object SET pending_import = ? WHERE id = ?').run(p, id);
  }

  /** Objects of an agent that came from its directory (not waiting for their first export): what a full import must see again. */
  importedCsIds(agent: string): number[] {
    return this.q.prepare('SELECT id FROM cs_object WHERE agent = ? AND provisioned = 0').pluck().all(agent) as number[];
  }

  /**
   * The anchors of an agent's objects, with their ids: what a deletion check (a read of the anchors
   * alone) compares. Only objects read from the directory have one (a provisioned object gets its
   * anchor when its add is recorded, and is no longer provisioned then), so this reads the anchor
   * index alone, not the rows; an object without an anchor is recognised by a full import.
   */
  importedAnchors(agent: string): Map<string, number> {
    const known = new Map<string, number>();
    const rows = this.q.prepare('SELECT anchor, id FROM cs_object WHERE agent = ? AND anchor IS NOT NULL').raw().iterate(agent) as IterableIterator<
      [string, number]
    >;
    for (const [anchor, id] of rows) known.set(anchor, id);
    return known;
  }

  /** Whether an agent has objects without an anchor: export adds whose anchor could not be read back, and provisioned objects. */
  hasAnchorlessCs(agent: string): boolean {
    return this.q.prepare('SELECT 1 FROM cs_object WHERE agent = ? AND anchor IS NULL LIMIT 1').pluck().get(agent) !== undefined;
  }

  markExported(id: number): void {
    this.q.prepare('UPDATE cs_object SET provisioned = 0 WHERE id = ?').run(id);
  }

  deleteCs(step: StepRef | undefined, cs: CsRow, operation: string): void {
    this.q.prepare('DELETE FROM cs_object WHERE id = ?').run(cs.id);
    this.log.logChange(step, 'cs', cs.agent, cs.id, cs.anchor ?? cs.dn, operation, { dn: cs.dn, attributes: cs.attributes }, undefined);
  }

  /** An operator disconnected the object by hand (on), or joined it by hand (off). */
  setExplicitDisconnect(id: number, on: boolean): void {
    this.q.prepare('UPDATE cs_object SET explicit_disconnect = ? WHERE id = ?').run(on ? 1 : 0, id);
  }

  isExplicitDisconnect(id: number): boolean {
    return this.q.prepare('SELECT explicit_disconnect FROM cs_object WHERE id = ?').pluck().get(id) === 1;
  }

  /** Whether the agent has any object linked to no metaverse object. */
  hasDisconnectors(agent: string): boolean {
    return this.q.prepare('SELECT EXISTS (SELECT 1 FROM cs_object WHERE agent = ? AND mv_id IS NULL)').pluck().get(agent) === 1;
  }

  /** Disconnectors of an agent whose indexed key has this (folded) value; one an operator disconnected by hand is never offered. */
  findDisconnectors(agent: string, key: string, value: string): CsRow[] {
    return (
      this.q
        .prepare(
          'SELECT DISTINCT c.* FROM cs_index i JOIN cs_object c ON c.id = i.cs_id WHERE i.agent = ? AND i.attribute = ? AND i.value = ? AND c.mv_id IS NULL AND c.explicit_disconnect = 0',
        )
        .all(agent, key, value.toLowerCase()) as CsDbRow[]
    ).map(toCs);
  }

  /** Non-provisioned objects of an agent: what a full import is compared against. */
  countImportedCs(agent: string): number {
    return this.q.prepare('SELECT COUNT(*) FROM cs_object WHERE agent = ? AND provisioned = 0').pluck().get(agent) as number;
  }
}
