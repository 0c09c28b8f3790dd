/** What each export wrote, kept until the confirming import has compared it with the directory. */
import type { AttributeMap, StepRef } from '../model/objects.js';
import { type Db, json, now } from './db.js';

export class Expectations {
  constructor(private readonly q: Db) {}

  /** Records what an export wrote; a second export before the confirming import adds to it. */
  expectExported(step: StepRef, csId: number, agent: string, dn: string, attributes: AttributeMap): void {
    const known = this.getExpectation(csId);
    const merged = { ...(known?.attributes ?? {}), ...attributes };
    this.q
      .prepare(
        `INSERT INTO export_expectation (cs_id, agent, dn, attributes, step_id, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(cs_id) DO UPDATE SET dn = excluded.dn, attributes = excluded.attributes, step_id = excluded.step_id, at = excluded.at`,
      )
      .run(csId, agent, dn, json(merged), step.stepId, now());
  }

  getExpectation(csId: number): { csId: number; dn: string; attributes: AttributeMap; stepId: number | null } | undefined {
    const r = this.q.prepare('SELECT cs_id, dn, attributes, step_id FROM export_expectation WHERE cs_id = ?').get(csId) as
      { cs_id: number; dn: string; attributes: string; step_id: number | null } | undefined;
    return r && { csId: r.cs_id, dn: r.dn, attributes: JSON.parse(r.attributes) as AttributeMap, stepId: r.step_id };
  }

  /** Expectations of an agent recorded before this step (an import confirms what earlier exports wrote). */
  expectationsBefore(agent: string, stepId: number): { csId: number; dn: string; attributes: AttributeMap }[] {
    return (
      this.q
        .prepare('SELECT cs_id, dn, attributes FROM export_expectation WHERE agent = ? AND (step_id IS NULL OR step_id < ?) ORDER BY cs_id')
        .all(agent, stepId) as {
        cs_id: number;
        dn: string;
        attributes: string;
      }[]
    ).map((r) => ({ csId: r.cs_id, dn: r.dn, attributes: JSON.parse(r.attributes) as AttributeMap }));
  }

  /** The CS objects of an agent that carry an export expectation. */
  expectationIds(agent: string): number[] {
    return this.q.prepare('SELECT cs_id FROM export_expectation WHERE agent = ?').pluck().all(agent) as number[];
  }

  clearExpectation(csId: number): void {
    this.q.prepare('DELETE FROM export_expectation WHERE cs_id = ?').run(csId);
  }
}
