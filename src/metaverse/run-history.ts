/** Runs, their steps with statistics, per-object errors; what a run was allowed; history retention. */
import type { RunOrigin, StepRef, StepStats } from '../model/objects.js';
import type { RunProblem } from '../model/problems.js';
import { type Db, json, now } from './db.js';

export class RunHistory {
  constructor(private readonly q: Db) {}

  /** allowedDeletes: the operator's --allow-deletes for this run, kept in the history. */
  startRun(profile: string, allowedDeletes?: number, configFingerprint?: string, startedBy?: RunOrigin): number {
    return Number(
      this.q
        .prepare('INSERT INTO run (profile, started_at, allowed_deletes, config_fingerprint, started_by) VALUES (?, ?, ?, ?, ?)')
        .run(profile, now(), allowedDeletes ?? null, configFingerprint ?? null, startedBy ? json(startedBy) : null).lastInsertRowid,
    );
  }

  /**
   * Runs (and their steps) the history still shows in progress, when no run can be: the caller holds
   * the run lock. They died without recording their end (kill -9, a power cut); they get `status`.
   */
  closeAbandonedRuns(status: string): number {
    return this.q.transaction(() => {
      // Through the run table (one row per run) and run_step's run index, not a scan of every step.
      this.q
        .prepare(
          "UPDATE run_step SET status = ?, message = COALESCE(message, 'the process ended before the step recorded its end') WHERE run_id IN (SELECT id FROM run WHERE status = 'in-progress') AND status = 'in-progress'",
        )
        .run(status);
      return this.q.prepare("UPDATE run SET status = ? WHERE status = 'in-progress'").run(status).changes;
    });
  }

  /** Ends a run; its changes are counted by operation once, here, so the history need not count them again. */
  finishRun(runId: number, status: string): void {
    const counts = Object.fromEntries(
      (
        this.q.prepare('SELECT operation, COUNT(*) AS n FROM change_log WHERE run_id = ? GROUP BY operation').all(runId) as { operation: string; n: number }[]
      ).map((c) => [c.operation, c.n]),
    );
    this.q.prepare('UPDATE run SET ended_at = ?, status = ?, change_counts = ? WHERE id = ?').run(now(), status, json(counts), runId);
  }

  startStep(runId: number, seq: number, agent: string, stepType: string): number {
    return Number(
      this.q.prepare('INSERT INTO run_step (run_id, seq, agent, step_type, started_at) VALUES (?, ?, ?, ?, ?)').run(runId, seq, agent, stepType, now())
        .lastInsertRowid,
    );
  }

  finishStep(stepId: number, status: string, stats: StepStats, message?: string): void {
    this.q
      .prepare('UPDATE run_step SET ended_at = ?, status = ?, stats = ?, message = ? WHERE id = ?')
      .run(now(), status, json(stats), message ?? null, stepId);
  }

  recordError(step: StepRef, e: RunProblem): void {
    this.q
      .prepare('INSERT INTO run_error (run_id, step_id, agent, severity, object, attribute, code, message, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(step.runId, step.stepId, e.agent, e.severity, e.object, e.attribute ?? null, e.code, e.message, now());
  }

  getRun(
    runId: number,
  ):
    | { id: number; profile: string; status: string; startedAt: string; endedAt: string | null; startedBy: RunOrigin | null; allowedDeletes: number | null }
    | undefined {
    const r = this.q
      .prepare('SELECT id, profile, status, started_at AS startedAt, ended_at AS endedAt, started_by, allowed_deletes AS allowedDeletes FROM run WHERE id = ?')
      .get(runId) as { started_by: string | null } | undefined;
    if (!r) return undefined;
    const { started_by, ...run } = r;
    return { ...run, startedBy: started_by ? (JSON.parse(started_by) as RunOrigin) : null } as never;
  }

  runSteps(runId: number): {
    id: number;
    seq: number;
    agent: string;
    stepType: string;
    status: string;
    stats: StepStats;
    message: string | null;
    startedAt: string;
    endedAt: string | null;
  }[] {
    const rows = this.q
      .prepare(
        'SELECT id, seq, agent, step_type AS stepType, status, stats, message, started_at AS startedAt, ended_at AS endedAt FROM run_step WHERE run_id = ? ORDER BY seq',
      )
      .all(runId) as { stats: string }[];
    return rows.map((r) => ({ ...r, stats: JSON.parse(r.stats) as StepStats })) as never;
  }

  runErrors(runId: number): (RunProblem & { stepId: number })[] {
    return this.q
      .prepare('SELECT step_id AS stepId, agent, severity, object, attribute, code, message FROM run_error WHERE run_id = ? ORDER BY id')
      .all(runId) as never;
  }

  /**
   * Retention: the change log, run errors and runs older than `before` (ISO time) go. A run that the
   * lineage, a metaverse object, a watermark or a pending export still names stays (its steps too),
   * so "which run created this contact" always resolves; the foreign keys decide that.
   */
  purgeHistoryBefore(before: string): { runs: number; changes: number; errors: number } {
    return this.q.transaction(() => {
      const changes = this.q.prepare('DELETE FROM change_log WHERE at < ?').run(before).changes;
      const errors = this.q.prepare('DELETE FROM run_error WHERE at < ?').run(before).changes;
      let runs = 0;
      for (const id of this.q.prepare('SELECT id FROM run WHERE ended_at IS NOT NULL AND ended_at < ?').pluck().all(before) as number[]) {
        try {
          this.q.transaction(() => {
            this.q.prepare('DELETE FROM run_step WHERE run_id = ?').run(id);
            this.q.prepare('DELETE FROM run WHERE id = ?').run(id);
          });
          runs++;
        } catch (e) {
          if (!/FOREIGN KEY/.test((e as Error).message)) throw e;
        }
      }
      return { runs, changes, errors };
    });
  }
}
