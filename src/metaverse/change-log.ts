/** The change log: every metaverse and connector-space change, with the values before and after. */
import type { StepRef } from '../model/objects.js';
import { type Db, json, now } from './db.js';

/** One change-log entry: values before and after, absent ones undefined. */
export interface ChangeLogEntry {
  runId: number | null;
  at: string;
  space: 'mv' | 'cs';
  agent: string | null;
  objectId: number;
  objectRef: string;
  operation: string;
  before: unknown;
  after: unknown;
}

export class ChangeLog {
  constructor(private readonly q: Db) {}

  logChange(
    step: StepRef | undefined,
    space: 'mv' | 'cs',
    agent: string | null,
    objectId: number,
    objectRef: string,
    operation: string,
    before: unknown,
    after: unknown,
  ): void {
    this.logChangeJson(
      step,
      space,
      agent,
      objectId,
      objectRef,
      operation,
      before === undefined ? null : json(before),
      after === undefined ? null : json(after),
    );
  }

  logChangeJson(
    step: StepRef | undefined,
    space: 'mv' | 'cs',
    agent: string | null,
    objectId: number,
    objectRef: string,
    operation: string,
    before: string | null,
    after: string | null,
  ): void {
    this.q
      .prepare(
        'INSERT INTO change_log (run_id, step_id, space, agent, object_id, object_ref, operation, before, after, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(step?.runId ?? null, step?.stepId ?? null, space, agent, objectId, objectRef, operation, before, after, now());
  }

  /** Every change of one metaverse or connector-space object, in order. */
  changesOf(space: 'mv' | 'cs', objectId: number): ChangeLogEntry[] {
    return this.changeLog('space = ? AND object_id = ?', space, objectId);
  }

  private changeLog(where: string, ...args: unknown[]): ChangeLogEntry[] {
    const rows = this.q
      .prepare(`SELECT run_id, at, space, agent, object_id, object_ref, operation, before, after FROM change_log WHERE ${where} ORDER BY id`)
      .all(...args) as {
      run_id: number | null;
      at: string;
      space: 'mv' | 'cs';
      agent: string | null;
      object_id: number;
      object_ref: string;
      operation: string;
      before: string | null;
      after: string | null;
    }[];
    return rows.map((r) => ({
      runId: r.run_id,
      at: r.at,
      space: r.space,
      agent: r.agent,
      objectId: r.object_id,
      objectRef: r.object_ref,
      operation: r.operation,
      before: r.before === null ? undefined : JSON.parse(r.before),
      after: r.after === null ? undefined : JSON.parse(r.after),
    }));
  }
}
