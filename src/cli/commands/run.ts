/** `dirbridge run PROFILE` and `dirbridge run-step AGENT STEP`: a run, its progress, its report and its exit code. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { executeRun } from '../../engine/execute.js';
import { commandLineOrigin } from '../../util/origin.js';
import { loadProfile, STEP_TYPES, type StepType } from '../../engine/profiles.js';
import type { RunReport, StepSpec } from '../../engine/runner.js';
import { EXIT_CODES } from '../../engine/status.js';
import { combine, logObserver, progressObserver } from '../observers.js';
import { loggerFor, parseCount, parseLimit, requireAgent, UsageError } from '../shared.js';
import { table } from '../table.js';

interface RunFlags {
  json?: boolean;
  allowDeletes?: number;
  staging?: boolean;
  limit?: number;
  logLevel?: string;
}

/** The options run and run-step share. */
function runOptions(c: Command, limit: string): Command {
  return c
    .option('--json', 'print the run report as JSON')
    .option('--allow-deletes <n>', 'allow this many deletions past the safety guards, for this run only', parseCount)
    .option('--staging', 'import and synchronize, but export nothing (exports stay pending)')
    .option('--limit <n>', limit, parseLimit)
    .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent');
}

export function registerRun(program: Command, config: () => LoadedConfig): void {
  runOptions(
    program.command('run').description('run a run profile (a YAML file under run-profiles/, e.g. "initial")').argument('<profile>', 'profile name or path'),
    'stop each step after this many objects (stopped-object-limit), e.g. to try a new rule on a few',
  )
    .addHelpText(
      'after',
      '\nExamples:\n  dirbridge run initial                      first setup\n  dirbridge run delta-cycle                  the scheduled cycle\n  dirbridge run delta-cycle --staging        import and sync, export nothing (see plan)\n  dirbridge run full-cycle --allow-deletes 37   after reviewing 37 held deletions with plan\n\nExit: 0 success, 1 warnings, 2 per-object errors, 3-8 and 130 a stopped run (dirbridge --help lists them).',
    )
    .action(async (name: string, opts: RunFlags) => {
      const loaded = config();
      const profile = loadProfile(loaded, name);
      await execute(loaded, profile.name, profile.steps, opts);
    });

  runOptions(
    program
      .command('run-step')
      .description(`run one step for one agent (${STEP_TYPES.join(', ')})`)
      .argument('<agent>', 'agent name')
      .argument('<step>', 'step type'),
    'stop the step after this many objects (stopped-object-limit)',
  ).action(async (agent: string, step: string, opts: RunFlags) => {
    const loaded = config();
    requireAgent(loaded, agent);
    if (!(STEP_TYPES as readonly string[]).includes(step)) throw new UsageError(`unknown step "${step}"; steps are: ${STEP_TYPES.join(', ')}`);
    await execute(loaded, `run-step ${agent} ${step}`, [{ agent, type: step as StepType }], opts);
  });
}

async function execute(loaded: LoadedConfig, profile: string, steps: StepSpec[], flags: RunFlags): Promise<void> {
  const log = loggerFor(loaded, flags.logLevel);
  const observer = combine(logObserver(log), ...(process.stderr.isTTY && !flags.json ? [progressObserver()] : []));
  // Ctrl-C or SIGTERM: the run stops at its next page or batch and records it (stopped-interrupted,
  // exit 130); a second signal ends the process at once.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupt.signal.aborted) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    log.warn({ event: 'signal', signal }, `${signal}: stopping at the next page or batch (again to stop at once, unrecorded)`);
    interrupt.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let ran;
  try {
    ran = await executeRun(loaded, profile, steps, {
      ...(flags.allowDeletes === undefined ? {} : { allowDeletes: flags.allowDeletes }),
      staging: flags.staging === true,
      ...(flags.limit === undefined ? {} : { objectLimit: flags.limit }),
      observer,
      interrupt: interrupt.signal,
      origin: commandLineOrigin(),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const { report, purged } = ran;
  if (purged.runs + purged.changes + purged.errors)
    log.info({ event: 'history-purged', ...purged }, `history older than ${loaded.config.history.retentionDays} days purged`);
  if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printReport(report);
  process.exitCode = EXIT_CODES[report.status];
}

function printReport(r: RunReport): void {
  const out: string[] = [`run ${r.runId} (${r.profile}): ${r.status}`, ''];
  out.push(
    table(
      ['#', 'agent', 'step', 'status', 'adds', 'updates', 'renames', 'deletes', 'unchanged', 'proj', 'joins', 'prov', 'disc', 'staged', 'errors', 'secs'],
      r.steps.map((s) => [
        s.seq,
        s.agent,
        s.added ? `${s.type} (${s.added})` : s.type,
        s.status,
        s.stats.adds,
        s.stats.updates,
        s.stats.renames,
        s.stats.deletes,
        s.stats.unchanged,
        s.stats.projections,
        s.stats.joins,
        s.stats.provisions,
        s.stats.disconnects,
        s.stats.exportsStaged,
        s.stats.errors + s.stats.warnings,
        Number(s.seconds.toFixed(2)),
      ]),
    ),
  );
  if (r.moves.length) {
    out.push('', `people who moved (${r.moves.length}):`);
    for (const m of r.moves.slice(0, 20)) {
      const x500 = m.x500.length ? `; X500 ${m.x500Written ? 'added to the mailbox' : 'NOT written (see the warning)'}: ${m.x500.join(', ')}` : '';
      out.push(`  ${m.person} -> ${m.mailbox}; now stands for it: ${m.entry}; contacts deleted: ${m.contactsDeleted.join('; ') || 'none'}${x500}`);
    }
    if (r.moves.length > 20) out.push(`  ... and ${r.moves.length - 20} more (see --json)`);
  }
  for (const s of r.steps) {
    if (s.message) out.push('', `step ${s.seq} (${s.agent} ${s.type}): ${s.message}`);
    const shown = s.problems.slice(0, 20);
    if (shown.length) {
      out.push('', `step ${s.seq} (${s.agent} ${s.type}) problems:`);
      for (const p of shown) out.push(`  ${p.severity} ${p.code}: ${p.object}${p.attribute ? ` [${p.attribute}]` : ''}: ${p.message}`);
      if (s.problems.length > shown.length) out.push(`  ... and ${s.problems.length - shown.length} more (see --json)`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
