/** Where each agent's next delta import starts, when it was last read in full, and its last deletion check. */
import type { StepRef } from '../model/objects.js';
import { type Db, now } from './db.js';

export class Watermarks {
  constructor(private readonly q: Db) {}

  getWatermark(agent: string): string | undefined {
    return this.q.prepare('SELECT value FROM watermark WHERE agent = ?').pluck().get(agent) as string | undefined;
  }

  /** Call inside the transaction that stages the changes the watermark covers. */
  setWatermark(step: StepRef, agent: string, value: string): void {
    this.q
      .prepare(
        `INSERT INTO watermark (agent, value, run_id, step_id, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET value = excluded.value, run_id = excluded.run_id, step_id = excluded.step_id, updated_at = excluded.updated_at`,
      )
      .run(agent, value, step.runId, step.stepId, now());
  }

  /** Call inside the transaction that stages a full import's deletions: its read reached the end. */
  recordFullImport(step: StepRef, agent: string, seen: number): void {
    this.q
      .prepare(
        `INSERT INTO full_import (agent, run_id, step_id, finished_at, seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET run_id = excluded.run_id, step_id = excluded.step_id, finished_at = excluded.finished_at, seen = excluded.seen`,
      )
      .run(agent, step.runId, step.stepId, now(), seen);
  }

  /** Whether the agent's directory has been read in full at least once. */
  hasFullImport(agent: string): boolean {
    return this.q.prepare('SELECT 1 FROM full_import WHERE agent = ?').pluck().get(agent) !== undefined;
  }

  /** When the agent's anchors were last compared with its connector space, and what that found. */
  lastDeletionCheck(agent: string): { checkedAt: string; runId: number | null; seen: number; gone: number } | undefined {
    const r = this.q.prepare('SELECT checked_at, run_id, seen, gone FROM deletion_check WHERE agent = ?').get(agent) as
      { checked_at: string; run_id: number | null; seen: number; gone: number } | undefined;
    return r && { checkedAt: r.checked_at, runId: r.run_id, seen: r.seen, gone: r.gone };
  }

  /** Call inside the transaction that stages the deletions the check found. */
  recordDeletionCheck(step: StepRef, agent: string, seen: number, gone: number): void {
    this.q
      .prepare(
        `INSERT INTO deletion_check (agent, run_id, step_id, checked_at, seen, gone) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(agent) DO UPDATE SET run_id = excluded.run_id, step_id = excluded.step_id, checked_at = excluded.checked_at, seen = excluded.seen, gone = excluded.gone`,
      )
      .run(agent, step.runId, step.stepId, now(), seen, gone);
  }
}
