/** Runs steps in order, records the run and each step with its statistics, and stops on a stopped step. */
import { createHash } from 'node:crypto';
import { ServerDownError } from '../agents/types.js';
import type { LoadedConfig } from '../config/load.js';
import { referenceAttributesOf } from '../config/schema.js';
import { Store, type IndexPlan } from '../metaverse/store.js';
import type { RunOrigin, StepStats } from '../model/objects.js';
import { csIndexKey } from '../rules/join.js';
import { mailSourceAttributes } from '../rules/provisioning.js';
import { exportConcurrencyOf, openAgent } from './agents.js';
import { type RunState, StepContext } from './context.js';
import { inStagingMode, runExport } from './export.js';
import { runDeltaImport, runFullImport } from './import.js';
import type { StepType } from './profiles.js';
import { isStopped, type RunStatus, StepStoppedError, worst } from './status.js';
import { runDeltaSync, runFullSync } from './sync/index.js';

export interface StepSpec {
  agent: string;
  type: StepType;
  /** Stop the step after this many objects. */
  limit?: number;
  /** Not in the profile: added by the engine to export what the run staged late (see runSteps). */
  added?: 'convergence';
}

export interface StepReport {
  seq: number;
  agent: string;
  type: StepType;
  status: RunStatus;
  stats: StepStats;
  message?: string;
  problems: StepContext['problems'];
  seconds: number;
  /** Set on steps the engine added after the profile's own (the exports of late changes). */
  added?: 'convergence';
}

export interface RunReport {
  runId: number;
  profile: string;
  status: RunStatus;
  steps: StepReport[];
  /** People who moved to the other side in this run (a Domino person now an Exchange mailbox). */
  moves: RunMove[];
}

export interface RunMove {
  person: string;
  mailbox: string;
  /** The person's own document, which now stands for the mailbox on its side. */
  entry: string;
  contactsDeleted: string[];
  x500: string[];
  x500Written: boolean;
}

export function openStore(loaded: LoadedConfig): Store {
  const store = Store.open(loaded.path(loaded.config.metaverse.file));
  store.setIndexPlan(indexPlan(loaded));
  return store;
}

/** The values joins and conflict checks look up, derived from the rules. */
export function indexPlan(loaded: LoadedConfig): IndexPlan {
  const cs = new Map<string, string[]>();
  const mv = new Map<string, string[]>();
  for (const type of Object.keys(loaded.config.metaverse.objectTypes)) mv.set(type, ['mail']);
  for (const [agent, rules] of Object.entries(loaded.config.rules)) {
    const keys = rules.join.map(csIndexKey);
    // Sources also index what flows into mail, so an address conflict is seen before either side is synced.
    if (rules.project) keys.push(...mailSourceAttributes(rules).map((a) => a.toLowerCase()));
    cs.set(agent, [...new Set(keys)]);
    const list = mv.get(rules.objectType) ?? [];
    for (const j of rules.join) if (!list.includes(j.mv)) list.push(j.mv);
    mv.set(rules.objectType, list);
  }
  // The groups that name a member are found by its id in their references (see sync/references.ts).
  for (const [type, list] of mv) for (const attr of referenceAttributesOf(loaded.config.rules, type)) if (!list.includes(attr)) list.push(attr);
  // A move finds the mailbox of a person, and the person of a mailbox, by the migration's match.
  const migration = loaded.config.migration;
  for (const rule of migration?.match ?? []) {
    for (const [type, attribute] of [
      [migration!.from, rule.from],
      [migration!.to, rule.to],
    ] as const) {
      const list = mv.get(type) ?? [];
      if (!list.includes(attribute)) list.push(attribute);
      mv.set(type, list);
    }
  }
  return { cs, mv };
}

export interface RunOptions {
  /** --allow-deletes: how many deletions this run may make past the safety guards. */
  allowDeletes?: number;
  /** Staging for this run: imports and syncs, no exports. */
  staging?: boolean;
  /** --limit: an object limit for every step of this run (the lower one wins over a step's own). */
  objectLimit?: number;
  /** Who watches the run: logs, a progress bar. */
  observer?: RunObserver;
  /** Aborted when the operator stops the run (reason: the signal's name). */
  interrupt?: AbortSignal;
  /** Who or what started the run, for the history. */
  origin?: RunOrigin;
}

/** What a run tells its onlookers as it goes; every method is optional. */
export interface RunObserver {
  runStarted?(run: { runId: number; profile: string; steps: readonly StepSpec[] }): void;
  stepStarted?(step: { runId: number; seq: number; of: number; agent: string; type: StepType }): void;
  /** `done` objects so far; `total` when the step knows it in advance. */
  progress?(done: number, total?: number): void;
  problem?(p: StepContext['problems'][number] & { runId: number; seq: number; agent: string }): void;
  stepFinished?(report: StepReport & { runId: number }): void;
  runFinished?(report: RunReport): void;
}

export async function runSteps(loaded: LoadedConfig, store: Store, profile: string, steps: readonly StepSpec[], options: RunOptions = {}): Promise<RunReport> {
  // Under the run lock: a run still in progress in the history died without recording its end.
  store.closeAbandonedRuns('stopped-interrupted');
  const runId = store.startRun(profile, options.allowDeletes, configFingerprint(loaded), options.origin);
  const observer = options.observer ?? {};
  observer.runStarted?.({ runId, profile, steps });
  const run: RunState = {
    errors: 0,
    errorLimit: loaded.config.safety.errorLimit,
    allowDeletes: options.allowDeletes ?? 0,
    staging: options.staging ?? false,
    interrupt: options.interrupt,
  };
  const reports: StepReport[] = [];
  let status: RunStatus = 'success';
  /** The last export step of each agent so far: what its agent's syncs stage after it is exported at the end. */
  const lastExport = new Map<string, number>();
  let planned = steps.length;

  const runOne = async (spec: StepSpec): Promise<boolean> => {
    const seq = reports.length + 1;
    const stepId = store.startStep(runId, seq, spec.agent, spec.type);
    if (spec.type === 'export') lastExport.set(spec.agent, stepId);
    const limits = [spec.limit, options.objectLimit].filter((l): l is number => l !== undefined);
    const ctx = new StepContext(loaded, store, { runId, stepId }, spec.agent, run, limits.length ? Math.min(...limits) : undefined);
    ctx.onProgress = observer.progress?.bind(observer);
    ctx.onProblem = (p) => observer.problem?.({ ...p, runId, seq, agent: spec.agent });
    observer.stepStarted?.({ runId, seq, of: planned, agent: spec.agent, type: spec.type });
    const started = Date.now();
    let stepStatus: RunStatus;
    let message: string | undefined;
    try {
      await runStep(ctx, spec);
      stepStatus = ctx.stats.errors ? 'completed-errors' : ctx.stats.warnings ? 'completed-warnings' : 'success';
    } catch (e) {
      stepStatus = e instanceof StepStoppedError ? e.status : e instanceof ServerDownError ? 'stopped-server-down' : 'stopped-error';
      message = (e as Error).message;
    }
    store.finishStep(stepId, stepStatus, ctx.stats, message);
    const report: StepReport = {
      seq,
      agent: spec.agent,
      type: spec.type,
      status: stepStatus,
      stats: ctx.stats,
      problems: ctx.problems,
      seconds: (Date.now() - started) / 1000,
      ...(message ? { message } : {}),
      ...(spec.added ? { added: spec.added } : {}),
    };
    reports.push(report);
    observer.stepFinished?.({ ...report, runId });
    status = worst(status, stepStatus);
    return !isStopped(stepStatus);
  };

  let going = true;
  for (const spec of steps) if (!(going = !options.interrupt?.aborted && (await runOne(spec)))) break;
  // A profile ends with the exports its syncs staged: what a step staged for an agent after that
  // agent's last export (a conflict released by the other side's sync, a value the confirming import
  // found changed) goes out in this run, followed by the profile's own confirmation of that agent.
  for (let round = 0; going && round < CONVERGENCE_ROUNDS; round++) {
    const due = [...lastExport].filter(([agent, stepId]) => !inStagingMode(loaded.config, run, agent) && store.countExportsStagedAfter(agent, stepId) > 0);
    if (!due.length) break;
    const more = due.flatMap(([agent]) => convergenceSteps(steps, agent));
    planned = reports.length + more.length;
    for (const spec of more) if (!(going = await runOne(spec))) break;
  }
  store.finishRun(runId, status);
  const moves = store.moves.movesOfRun(runId).map((m) => ({
    person: m.personLabel,
    mailbox: m.mailboxLabel,
    entry: `${m.docDn} (${m.docAgent})`,
    contactsDeleted: m.contacts.map((c) => `${c.dn} (${c.agent})`),
    x500: m.x500,
    x500Written: m.x500Written,
  }));
  const report = { runId, profile, status, steps: reports, moves };
  observer.runFinished?.(report);
  return report;
}

/** Rounds of exports a run adds at its end; a confirmation that keeps staging more is left to the next run. */
const CONVERGENCE_ROUNDS = 3;

/**
 * The steps that export an agent's late changes: an export, then the steps of that agent that followed
 * its last export in the profile (its confirming import, with or without a sync), or a delta import
 * and sync when the profile had none.
 */
function convergenceSteps(steps: readonly StepSpec[], agent: string): StepSpec[] {
  const last = steps.map((s) => s.agent === agent && s.type === 'export').lastIndexOf(true);
  const confirm = steps.slice(last + 1).filter((s) => s.agent === agent && s.type !== 'export');
  const follow: StepSpec[] = confirm.length ? confirm.map((s) => ({ agent, type: s.type })) : [{ agent, type: 'delta-import-sync' }];
  const exported: StepSpec = { agent, type: 'export' };
  return [exported, ...follow].map((s) => ({ ...s, added: 'convergence' as const }));
}

/**
 * A digest of what decides the sync's outcome (the rules and the metaverse types), kept with each run:
 * a full sync run under another digest than today's means the rules changed since (dirbridge status).
 */
export function configFingerprint(loaded: LoadedConfig): string {
  const { rules, metaverse } = loaded.config;
  return createHash('sha256')
    .update(JSON.stringify({ rules, objectTypes: metaverse.objectTypes, precedence: metaverse.precedence }))
    .digest('hex')
    .slice(0, 16);
}

async function runStep(ctx: StepContext, spec: StepSpec): Promise<void> {
  if (spec.type === 'full-sync') return runFullSync(ctx);
  if (spec.type === 'delta-sync') return runDeltaSync(ctx);
  // Nothing to export: the directory is not even connected to (the mailboxes' export, in the shipped
  // profiles, has work only when people move and migration.writeX500 names that agent).
  if (spec.type === 'export' && ctx.store.countPendingExports(spec.agent) === 0) return;
  const agent = openAgent(ctx.loaded, spec.agent, { onRetry: (object, message) => ctx.warning(object, undefined, 'retried', message) });
  warnIfTlsUnverified(ctx, spec.agent);
  await agent.open();
  try {
    if (spec.type === 'full-import') await runFullImport(ctx, agent);
    else if (spec.type === 'delta-import' || spec.type === 'delta-import-sync') await runDeltaImport(ctx, agent);
    else await runExport(ctx, agent, exportConcurrencyOf(ctx.loaded, spec.agent));
  } finally {
    await agent.close();
  }
  // The sync half runs after the connection is closed: it touches only the store.
  if (spec.type === 'delta-import-sync') runDeltaSync(ctx);
}

/**
 * A lab setting must not pass for a healthy production run: with verification off, anyone between
 * dirbridge and the directory can read the bind password. Said on every step that connects.
 */
function warnIfTlsUnverified(ctx: StepContext, agent: string): void {
  const cfg = ctx.config.agents[agent];
  if (!cfg || !('tls' in cfg) || cfg.tls.rejectUnauthorized) return;
  if (!('url' in cfg) || !(cfg.url.startsWith('ldaps:') || cfg.tls.startTls)) return;
  ctx.warning(
    agent,
    undefined,
    'tls-not-verified',
    `agents.${agent}.tls.rejectUnauthorized is false: the certificate of ${cfg.url} is not checked, so anyone on the way can read the bind password and the data; give tls.caFile instead`,
  );
}
