/**
 * References dirbridge could not resolve: a group member that names no object it synchronizes (a
 * free-text Domino member, a person out of scope, a mailbox whose contact is held by a conflict).
 * One row per group object, attribute and member, kept while the member stays unresolved: it is
 * reported once, when found, and an auditor lists the rest (`dirbridge mv show`, `unresolved`).
 */
import type { StepRef } from '../model/objects.js';
import { type Db, now } from './db.js';
import { dnKeyOf } from './keys.js';

export interface UnresolvedReference {
  /** The value as found: a DN (on import) or the member's name (on export). */
  value: string;
  /** What it names, for people: the DN again, or the member's metaverse label. */
  label: string;
  /** Why it could not be resolved, and what to do. */
  reason: string;
}

export interface UnresolvedReferenceRow extends UnresolvedReference {
  csId: number;
  attribute: string;
  runId: number | null;
  foundAt: string;
}

interface Row {
  cs_id: number;
  attribute: string;
  value: string;
  label: string;
  reason: string;
  run_id: number | null;
  found_at: string;
}

const toRow = (r: Row): UnresolvedReferenceRow => ({
  csId: r.cs_id,
  attribute: r.attribute,
  value: r.value,
  label: r.label,
  reason: r.reason,
  runId: r.run_id,
  foundAt: r.found_at,
});

export class UnresolvedReferences {
  constructor(private readonly q: Db) {}

  /** The unresolved values of one object's attribute, as last recorded. */
  unresolvedOf(csId: number, attribute?: string): UnresolvedReferenceRow[] {
    const rows = (
      attribute === undefined
        ? this.q.prepare('SELECT * FROM unresolved_reference WHERE cs_id = ? ORDER BY attribute, value').all(csId)
        : this.q.prepare('SELECT * FROM unresolved_reference WHERE cs_id = ? AND attribute = ? ORDER BY value').all(csId, attribute)
    ) as Row[];
    return rows.map(toRow);
  }

  /**
   * Replaces what is recorded for one object's attribute: values still unresolved keep the run and
   * time they were first found; values now resolved go.
   */
  setUnresolved(step: StepRef, csId: number, attribute: string, entries: readonly UnresolvedReference[]): void {
    const keep = new Set(entries.map((e) => dnKeyOf(e.value)));
    for (const key of this.q.prepare('SELECT value_key FROM unresolved_reference WHERE cs_id = ? AND attribute = ?').pluck().all(csId, attribute) as string[]) {
      if (!keep.has(key)) this.q.prepare('DELETE FROM unresolved_reference WHERE cs_id = ? AND attribute = ? AND value_key = ?').run(csId, attribute, key);
    }
    const at = now();
    for (const e of entries) {
      this.q
        .prepare(
          `INSERT INTO unresolved_reference (cs_id, attribute, value, value_key, label, reason, run_id, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (cs_id, attribute, value_key) DO UPDATE SET label = excluded.label, reason = excluded.reason`,
        )
        .run(csId, attribute, e.value, dnKeyOf(e.value), e.label, e.reason, step.runId, at);
    }
  }

  /** The objects that hold one of these values unresolved (a member that has just become known). */
  holdersOf(values: readonly string[]): number[] {
    const out = new Set<number>();
    for (const v of values) {
      for (const id of this.q.prepare('SELECT DISTINCT cs_id FROM unresolved_reference WHERE value_key = ?').pluck().all(dnKeyOf(v)) as number[]) out.add(id);
    }
    return [...out];
  }

  /** Every unresolved reference, oldest first (`dirbridge unresolved`). */
  allUnresolved(limit = 10_000): UnresolvedReferenceRow[] {
    return (this.q.prepare('SELECT * FROM unresolved_reference ORDER BY found_at, cs_id, attribute, value LIMIT ?').all(limit) as Row[]).map(toRow);
  }
}
