/** Pending exports: the one export each connector-space object may wait for, and its sending state. */
import type { PendingExport, StepRef } from '../model/objects.js';
import { type Db, json, now } from './db.js';
import { ATTRIBUTES_OF_IMAGE, type PeRow, SELECT_PENDING_EXPORT, toPe } from './rows.js';

export class PendingExports {
  constructor(private readonly q: Db) {}

  getPendingExport(csId: number): PendingExport | undefined {
    const r = this.q.prepare(`${SELECT_PENDING_EXPORT} WHERE p.cs_id = ?`).get(csId) as PeRow | undefined;
    return r && toPe(r);
  }

  /** Only the operation of an object's pending export: what sync asks of every object it reads. */
  pendingExportOperation(csId: number): PendingExport['operation'] | undefined {
    return this.q.prepare('SELECT operation FROM pending_export WHERE cs_id = ?').pluck().get(csId) as PendingExport['operation'] | undefined;
  }

  pendingExports(agent: string): PendingExport[] {
    return (this.q.prepare(`${SELECT_PENDING_EXPORT} WHERE p.agent = ? ORDER BY p.cs_id`).all(agent) as PeRow[]).map(toPe);
  }

  countPendingExports(agent?: string, operation?: PendingExport['operation']): number {
    if (operation) return this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ? AND operation = ?').pluck().get(agent, operation) as number;
    return (
      agent
        ? this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ?').pluck().get(agent)
        : this.q.prepare('SELECT COUNT(*) FROM pending_export').pluck().get()
    ) as number;
  }

  /** The CS ids of an agent's pending exports, operation by operation in the given order, then by id. */
  pendingExportIds(agent: string, order: readonly PendingExport['operation'][]): number[] {
    return order.flatMap(
      (op) => this.q.prepare('SELECT cs_id FROM pending_export WHERE agent = ? AND operation = ? ORDER BY cs_id').pluck().all(agent, op) as number[],
    );
  }

  /**
   * Stages (or replaces) the one pending export a CS object may have; a replacement keeps the sent
   * mark (its outcome is still unknown). The step that staged it is kept: a run exports at its end
   * what its steps staged after their agent's last export step.
   */
  putPendingExport(step: StepRef | undefined, pe: PendingExport): void {
    const common = [pe.csId, pe.agent, pe.operation, pe.dn];
    let newDn: string | null = null;
    let classes: string | null = null;
    let attrs = '{}';
    if (pe.operation === 'add') {
      classes = json(pe.objectClasses);
      attrs = json(pe.attributes);
    }
    if (pe.operation === 'update') {
      newDn = pe.newDn;
      attrs = json(pe.changes);
    }
    this.q
      .prepare(
        `INSERT INTO pending_export (cs_id, agent, operation, dn, new_dn, object_classes, attributes, created_run, staged_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET operation = excluded.operation, dn = excluded.dn, new_dn = excluded.new_dn,
           object_classes = excluded.object_classes, attributes = excluded.attributes, staged_step = excluded.staged_step`,
      )
      .run(...common, newDn, classes, attrs, step?.runId ?? null, step?.stepId ?? null);
  }

  /** How many of an agent's pending exports were staged (or replaced) after the given step. */
  countExportsStagedAfter(agent: string, stepId: number): number {
    return this.q.prepare('SELECT COUNT(*) FROM pending_export WHERE agent = ? AND staged_step > ?').pluck().get(agent, stepId) as number;
  }

  /**
   * Stages (or replaces) the add of a provisioned object whose image holds exactly what the add
   * writes (insertProvisioned and replanProvisioned write both): the add refers to the image instead
   * of keeping a third copy of the attributes (the change log holds the second), and reads them from
   * it when it is read.
   */
  putPendingAdd(step: StepRef | undefined, cs: { id: number; agent: string; dn: string; objectClasses: string[] }): void {
    this.q
      .prepare(
        `INSERT INTO pending_export (cs_id, agent, operation, dn, new_dn, object_classes, attributes, created_run, staged_step) VALUES (?, ?, 'add', ?, NULL, ?, '${ATTRIBUTES_OF_IMAGE}', ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET operation = excluded.operation, dn = excluded.dn, new_dn = NULL,
           object_classes = excluded.object_classes, attributes = excluded.attributes, staged_step = excluded.staged_step`,
      )
      .run(cs.id, cs.agent, cs.dn, json(cs.objectClasses), step?.runId ?? null, step?.stepId ?? null);
  }

  removePendingExport(csId: number): void {
    this.q.prepare('DELETE FROM pending_export WHERE cs_id = ?').run(csId);
  }

  /** The directory refused the export: its outcome is known (not done), so it is no longer in doubt. */
  recordExportFailure(csId: number, message: string): void {
    this.q.prepare('UPDATE pending_export SET attempts = attempts + 1, last_error = ?, sent_at = NULL WHERE cs_id = ?').run(message, csId);
  }

  /** The intent, committed before the export goes out: if the process dies now, the next run knows. */
  markExportSent(csId: number): void {
    this.q.prepare('UPDATE pending_export SET sent_at = ? WHERE cs_id = ?').run(now(), csId);
  }

  /** An export marked as sent that never went out (the step stopped first): its outcome is known. */
  clearExportSent(csId: number): void {
    this.q.prepare('UPDATE pending_export SET sent_at = NULL WHERE cs_id = ?').run(csId);
  }
}
