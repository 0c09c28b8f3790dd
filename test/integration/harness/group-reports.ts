/** What the group tests read of a run's report and of directory entries, shared by their files. */
import { expect } from 'vitest';
import type { Deployment, RunReportJson } from './coexistence.js';
import { normalizeDn } from '../../../src/util/dn.js';

type Cli = ReturnType<Deployment['cli']>;

/** The run ended as expected (`success` by default), with no error and no stopped step; its report. */
export function ran(r: Cli, status = 'success'): RunReportJson {
  const stopped = r.report?.steps.filter((s) => s.message).map((s) => `${s.agent} ${s.type}: ${s.message}`) ?? [];
  const errors = r.report?.steps.flatMap((s) => s.problems.filter((p) => p.severity === 'error').map((p) => `${p.code}: ${p.object}: ${p.message}`)) ?? [];
  expect({ code: r.code, status: r.report?.status, stderr: r.stderr, stopped, errors }).toEqual({
    code: status === 'success' ? 0 : 1,
    status,
    stderr: '',
    stopped: [],
    errors: [],
  });
  return r.report!;
}

/** What the export steps of one agent wrote in a run, summed. */
export function exported(report: RunReportJson, agent: string): Record<string, number> {
  const s = report.steps.filter((x) => x.agent === agent && x.type === 'export');
  const sum = (k: string): number => s.reduce((n, x) => n + (x.stats[k] ?? 0), 0);
  return { adds: sum('adds'), updates: sum('updates'), deletes: sum('deletes'), valuesAdded: sum('valuesAdded'), valuesRemoved: sum('valuesRemoved') };
}

/** Adds, updates and deletes of every export step of a run. */
export const allExports = (report: RunReportJson): number =>
  report.steps.filter((s) => s.type === 'export').reduce((n, s) => n + (s.stats.adds ?? 0) + (s.stats.updates ?? 0) + (s.stats.deletes ?? 0), 0);

/** An attribute as ldapts returns it (absent, one value or several), as a list of strings. */
export const text = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** DNs in a form that compares equal whatever their case and spacing, sorted. */
export const dns = (values: readonly string[]): string[] => values.map((v) => normalizeDn(v)).sort();
