/**
 * `dirbridge plan`: what the next exports would write, read from the store without changing it. One
 * line per attribute change, so a reviewer sees every value before and after (and every deletion a
 * threshold held back) before allowing it.
 */
import { isValueDelta, type PendingExport } from '../model/objects.js';

export interface PlanLine {
  agent: string;
  operation: 'add' | 'modify' | 'rename' | 'delete';
  dn: string;
  newDn: string;
  attribute: string;
  before: string;
  after: string;
  attempts: number;
  lastError: string;
}

const join = (values: readonly string[]): string => values.join(' | ');

export function planLines(pending: readonly PendingExport[]): PlanLine[] {
  const lines: PlanLine[] = [];
  for (const pe of pending) {
    const base = { agent: pe.agent, dn: pe.dn, newDn: '', attempts: pe.attempts, lastError: pe.lastError ?? '' };
    if (pe.operation === 'delete') lines.push({ ...base, operation: 'delete', attribute: '', before: '', after: '' });
    else if (pe.operation === 'add') {
      for (const [attribute, values] of Object.entries(pe.attributes)) lines.push({ ...base, operation: 'add', attribute, before: '', after: join(values) });
    } else {
      if (pe.newDn) lines.push({ ...base, operation: 'rename', newDn: pe.newDn, attribute: '', before: '', after: '' });
      for (const [attribute, change] of Object.entries(pe.changes)) {
        // A list written as what changed in it (a group's members): the values the export removes and
        // adds, one line each, which is what it sends; not two lists of 5,000.
        if (isValueDelta(change)) {
          for (const v of change.removed ?? []) lines.push({ ...base, operation: 'modify', attribute: `${attribute} (remove)`, before: v, after: '' });
          for (const v of change.added ?? []) lines.push({ ...base, operation: 'modify', attribute: `${attribute} (add)`, before: '', after: v });
        } else lines.push({ ...base, operation: 'modify', attribute, before: join(change.before), after: join(change.after) });
      }
    }
  }
  return lines;
}

export function planSummary(pending: readonly PendingExport[]): { agent: string; adds: number; modifies: number; renames: number; deletes: number }[] {
  const by = new Map<string, { agent: string; adds: number; modifies: number; renames: number; deletes: number }>();
  for (const pe of pending) {
    const s = by.get(pe.agent) ?? { agent: pe.agent, adds: 0, modifies: 0, renames: 0, deletes: 0 };
    if (pe.operation === 'add') s.adds++;
    else if (pe.operation === 'delete') s.deletes++;
    else {
      if (pe.newDn) s.renames++;
      if (Object.keys(pe.changes).length) s.modifies++;
    }
    by.set(pe.agent, s);
  }
  return [...by.values()];
}

/** RFC 4180: every field quoted, quotes doubled (values may hold commas, quotes and line breaks). */
/** The CSV columns of a plan, in order. */
export const PLAN_COLUMNS: (keyof PlanLine)[] = ['agent', 'operation', 'dn', 'newDn', 'attribute', 'before', 'after', 'attempts', 'lastError'];
