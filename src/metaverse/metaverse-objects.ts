/** The metaverse objects: one per person, with each attribute's contributing agent. */
import type { AttributeMap, MvRow, StepRef } from '../model/objects.js';
import { diffAttributes } from '../model/values.js';
import type { ChangeLog } from './change-log.js';
import { type Db, json, now } from './db.js';
import type { LookupIndex } from './lookup-index.js';

/** What is kept of a deleted metaverse object. */
export interface MvTombstone {
  id: number;
  objectType: string;
  attributes: AttributeMap;
  reason: string | null;
  runId: number | null;
  deletedAt: string;
}

export class MetaverseObjects {
  constructor(
    private readonly q: Db,
    private readonly index: LookupIndex,
    private readonly log: ChangeLog,
  ) {}

  getMv(id: number): MvRow | undefined {
    const r = this.q.prepare('SELECT id, object_type, attributes, sources FROM mv_object WHERE id = ?').get(id) as
      { id: number; object_type: string; attributes: string; sources: string } | undefined;
    return (
      r && {
        id: r.id,
        objectType: r.object_type,
        attributes: JSON.parse(r.attributes) as AttributeMap,
        sources: JSON.parse(r.sources) as Record<string, string>,
      }
    );
  }

  createMv(step: StepRef | undefined, objectType: string, attributes: AttributeMap, sources: Record<string, string>): number {
    const t = now();
    // SQLite hands out the highest id + 1: after the newest object was deleted, its id would be given
    // again, and its history, lineage and tombstone would read as the new object's. The id follows the
    // highest ever used instead (two lookups on primary keys).
    const id = Number(
      this.q
        .prepare(
          `INSERT INTO mv_object (id, object_type, attributes, sources, created_run, updated_run, created_at, updated_at)
           VALUES (MAX(COALESCE((SELECT MAX(id) FROM mv_object), 0), COALESCE((SELECT MAX(mv_id) FROM mv_tombstone), 0)) + 1, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(objectType, json(attributes), json(sources), step?.runId ?? null, step?.runId ?? null, t, t).lastInsertRowid,
    );
    this.index.indexMv(id, objectType, undefined, attributes);
    this.log.logChange(step, 'mv', null, id, objectType, 'mv-add', undefined, attributes);
    return id;
  }

  updateMv(step: StepRef | undefined, before: MvRow, attributes: AttributeMap, sources: Record<string, string>): void {
    this.q
      .prepare('UPDATE mv_object SET attributes = ?, sources = ?, updated_run = ?, updated_at = ? WHERE id = ?')
      .run(json(attributes), json(sources), step?.runId ?? null, now(), before.id);
    this.index.indexMv(before.id, before.objectType, before.attributes, attributes);
    const diff = diffAttributes(before.attributes, attributes);
    this.log.logChange(step, 'mv', null, before.id, before.objectType, 'mv-update', diff.before, diff.after);
  }

  deleteMv(step: StepRef | undefined, mv: MvRow, reason: string): void {
    this.q.prepare('DELETE FROM mv_object WHERE id = ?').run(mv.id);
    this.q
      .prepare('INSERT OR REPLACE INTO mv_tombstone (mv_id, object_type, attributes, mail, reason, run_id, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(mv.id, mv.objectType, json(mv.attributes), mv.attributes['mail']?.[0]?.toLowerCase() ?? null, reason, step?.runId ?? null, now());
    this.log.logChange(step, 'mv', null, mv.id, mv.objectType, 'mv-delete', mv.attributes, { reason });
  }

  /** A deleted metaverse object's last image, when and why it went. */
  getTombstone(id: number): MvTombstone | undefined {
    const r = this.q.prepare('SELECT mv_id, object_type, attributes, reason, run_id, deleted_at FROM mv_tombstone WHERE mv_id = ?').get(id) as
      { mv_id: number; object_type: string; attributes: string; reason: string | null; run_id: number | null; deleted_at: string } | undefined;
    return (
      r && {
        id: r.mv_id,
        objectType: r.object_type,
        attributes: JSON.parse(r.attributes) as AttributeMap,
        reason: r.reason,
        runId: r.run_id,
        deletedAt: r.deleted_at,
      }
    );
  }

  /** Deleted metaverse objects by mail (case-insensitive), or by a DN or anchor one of their connectors had. */
  findTombstones(query: string): number[] {
    const q = query.trim();
    return this.q
      .prepare(
        `SELECT mv_id FROM mv_tombstone WHERE mail = lower(?)
         UNION SELECT l.mv_id FROM lineage l JOIN mv_tombstone t ON t.mv_id = l.mv_id WHERE l.anchor = ? OR lower(l.dn) = lower(?)
         ORDER BY 1`,
      )
      .pluck()
      .all(q, q, q) as number[];
  }

  /** MV objects whose indexed attribute has this value (case-insensitive), optionally of one type. */
  findMv(attribute: string, value: string, objectType?: string): number[] {
    const v = value.toLowerCase();
    return (
      objectType
        ? this.q.prepare('SELECT DISTINCT mv_id FROM mv_index WHERE attribute = ? AND value = ? AND object_type = ?').pluck().all(attribute, v, objectType)
        : this.q.prepare('SELECT DISTINCT mv_id FROM mv_index WHERE attribute = ? AND value = ?').pluck().all(attribute, v)
    ) as number[];
  }
}
