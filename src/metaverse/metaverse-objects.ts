/** The metaverse objects: one per person, with each attribute's contributing agent. */
import type { AttributeMap, MvRow, StepRef } from '../model/objects.js';
import { diffAttributes } from '../model/values.js';
import type { ChangeLog } from './change-log.js';
import { type Db, json, now } from './db.js';
import type { LookupIndex } from './lookup-index.js';

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
    const id = Number(
      this.q
        .prepare('INSERT INTO mv_object (object_type, attributes, sources, created_run, updated_run, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
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
    this.log.logChange(step, 'mv', null, mv.id, mv.objectType, 'mv-delete', mv.attributes, { reason });
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
