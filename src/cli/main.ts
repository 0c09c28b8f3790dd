#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The dirbridge command line: thin commands over the engine and the store.
 *
 * The first line gives V8 a 64 MB young generation (Node's default is 16 MB): a page of a thousand
 * entries lives through several minor collections while it is parsed and staged, and with the
 * default most of it was copied to the old generation and collected a second time there. A
 * 100,000-object full import ran 30% faster; the peak resident set grows by up to about 110 MB.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig, readSecret } from '../config/load.js';
import { createWebServer } from '../web/server.js';
import { loadProfile, STEP_TYPES, type StepType } from '../engine/profiles.js';
import type { RunReport, StepSpec } from '../engine/runner.js';
import { executeRun } from '../engine/execute.js';
import { health } from '../engine/health.js';
import { startScheduler, validateSchedule } from '../engine/scheduler.js';
import type { Logger } from 'pino';
import { combine, createLogger, type LogLevel, logObserver, progressObserver } from './observers.js';
import { acquireRunLock, LockedError, LockUnusableError } from '../engine/lock.js';
import { EXIT_CODES } from '../engine/status.js';
import { existsSync, readFileSync } from 'node:fs';
import { Store, StoreUnusableError } from '../metaverse/store.js';
import { registerInspection } from './inspect.js';
import { Inspector } from '../metaverse/inspect.js';
import { preview, PreviewNotFoundError } from '../engine/preview.js';
import { previewText } from './preview.js';
import { toCsv } from './csv.js';
import { PLAN_COLUMNS, planLines, planSummary } from './plan.js';
import { table } from './table.js';

/** The version of the package this build belongs to (dist/cli/ sits two levels below package.json). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command();
program
  .name('dirbridge')
  .description('Directory synchronization between HCL Domino and Microsoft Exchange / Active Directory')
  .version(VERSION, '-V, --version', 'the version of dirbridge')
  .option('-c, --config <path>', 'configuration file', 'dirbridge.yaml')
  .exitOverride();

function config(): LoadedConfig {
  return loadConfig(program.opts<{ config: string }>().config);
}

program
  .command('run')
  .description('run a run profile (a YAML file under run-profiles/, e.g. "initial")')
  .argument('<profile>', 'profile name or path')
  .option('--json', 'print the run report as JSON')
  .option('--allow-deletes <n>', 'allow this many deletions past the safety guards, for this run only', parseCount)
  .option('--staging', 'import and synchronize, but export nothing (exports stay pending)')
  .option('--limit <n>', 'stop each step after this many objects (stopped-object-limit), e.g. to try a new rule on a few', parseLimit)
  .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
  .action(async (name: string, opts: RunFlags) => {
    const loaded = config();
    const profile = loadProfile(loaded, name);
    await execute(loaded, profile.name, profile.steps, opts);
  });

program
  .command('run-step')
  .description(`run one step for one agent (${STEP_TYPES.join(', ')})`)
  .argument('<agent>', 'agent name')
  .argument('<step>', 'step type')
  .option('--json', 'print the run report as JSON')
  .option('--allow-deletes <n>', 'allow this many deletions past the safety guards, for this run only', parseCount)
  .option('--staging', 'import and synchronize, but export nothing (exports stay pending)')
  .option('--limit <n>', 'stop the step after this many objects (stopped-object-limit)', parseLimit)
  .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
  .action(async (agent: string, step: string, opts: RunFlags) => {
    const loaded = config();
    requireAgent(loaded, agent);
    if (!(STEP_TYPES as readonly string[]).includes(step)) throw new UsageError(`unknown step "${step}"; steps are: ${STEP_TYPES.join(', ')}`);
    await execute(loaded, `run-step ${agent} ${step}`, [{ agent, type: step as StepType }], opts);
  });

program
  .command('plan')
  .description('every pending export (add, modify with values before and after, rename, delete), read-only')
  .argument('[profile]', 'only the agents this run profile exports to')
  .option('--agent <name>', 'only this agent')
  .option('--json', 'as JSON')
  .option('--csv', 'as CSV, one line per attribute change')
  .action((profileName: string | undefined, opts: { agent?: string; json?: boolean; csv?: boolean }) => {
    const loaded = config();
    let agents = Object.keys(loaded.config.agents);
    if (profileName) {
      const exported = loadProfile(loaded, profileName).steps.filter((s) => s.type === 'export').map((s) => s.agent);
      agents = agents.filter((a) => exported.includes(a));
    }
    if (opts.agent) {
      requireAgent(loaded, opts.agent);
      agents = agents.filter((a) => a === opts.agent);
    }
    const store = openReadOnly(loaded, 'nothing is pending');
    try {
      const pending = agents.flatMap((a) => store.pendingExports(a));
      if (opts.json) process.stdout.write(JSON.stringify({ summary: planSummary(pending), exports: pending }, null, 2) + '\n');
      else if (opts.csv) process.stdout.write(toCsv(PLAN_COLUMNS, planLines(pending)));
      else {
        const summary = planSummary(pending);
        const out = [summary.length ? table(['agent', 'adds', 'modifies', 'renames', 'deletes'], summary.map((s) => [s.agent, s.adds, s.modifies, s.renames, s.deletes])) : 'nothing pending'];
        const lines = planLines(pending);
        if (lines.length) out.push('', table(['agent', 'operation', 'dn', 'new dn / attribute', 'before', 'after'], lines.map((l) => [l.agent, l.operation, l.dn, l.newDn || l.attribute, l.before, l.after])));
        process.stdout.write(out.join('\n') + '\n');
      }
    } finally {
      store.close();
    }
  });

program
  .command('preview')
  .description('what a sync would do to one object and why, rule by rule; writes nothing')
  .argument('<object>', 'a DN, an anchor (objectGUID, UNID, entryUUID) or a mail address')
  .option('--json', 'as JSON')
  .action((query: string, opts: { json?: boolean }) => {
    const loaded = config();
    const store = openReadOnly(loaded, 'there is nothing to preview');
    try {
      const result = preview(loaded, store, query);
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : previewText(result));
    } catch (e) {
      if (e instanceof PreviewNotFoundError) throw new UsageError(e.message);
      throw e;
    } finally {
      store.close();
    }
  });

program
  .command('schedule')
  .description('run the profiles of the config\'s schedule: on their cron expressions, never two at once; SIGTERM lets the current run finish')
  .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
  .action(async (opts: { logLevel?: string }) => {
    const loaded = config();
    const entries = loaded.config.schedule;
    if (!entries.length) throw new ConfigError(loaded.file, ['schedule: empty; add entries like { profile: delta-cycle, cron: "*/10 * * * *" }']);
    const problems = validateSchedule(entries);
    for (const e of entries) loadProfile(loaded, e.profile); // a missing profile is a config error now, not at 2 a.m.
    if (problems.length) throw new ConfigError(loaded.file, problems);
    const log = loggerFor(loaded, opts.logLevel ?? (process.stderr.isTTY ? 'info' : undefined));
    const scheduler = startScheduler(
      entries,
      async (name) => {
        const profile = loadProfile(loaded, name);
        try {
          await executeRun(loaded, profile.name, profile.steps, { observer: logObserver(log) });
        } catch (e) {
          if (!(e instanceof LockedError)) throw e;
          log.warn({ event: 'run-skipped', profile: name }, `${name} is due but ${e.message}: skipped`);
        }
      },
      log,
    );
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string): void => {
        log.info({ event: 'signal', signal }, `${signal}: stopping`);
        void scheduler.stop().then(resolve);
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
  });

program
  .command('serve')
  .description('the read-only web view for auditors: search, objects with lineage and history, runs, report (token required)')
  .option('--host <host>', 'address to listen on (default serve.host, 127.0.0.1)')
  .option('--port <port>', 'port (default serve.port, 8470; 0 picks a free one)')
  .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
  .action(async (opts: { host?: string; port?: string; logLevel?: string }) => {
    const loaded = config();
    const ref = loaded.config.serve.token;
    if (!ref) throw new ConfigError(loaded.file, ['serve.token: the web view needs an access token; add serve: { token: { env: DIRBRIDGE_SERVE_TOKEN } } (or { file: PATH })']);
    const secret = readSecret(ref, process.env, loaded.path);
    if ('error' in secret) throw new ConfigError(loaded.file, [`serve.token: ${secret.error}`]);
    if (secret.value.length < 16) throw new ConfigError(loaded.file, ['serve.token: the token is shorter than 16 characters; use a long random one (openssl rand -hex 24)']);
    const log = loggerFor(loaded, opts.logLevel ?? 'info');
    const store = openReadOnly(loaded, 'there is nothing to show (run the initial profile first)');
    const server = createWebServer(loaded, store, secret.value);
    const host = opts.host ?? loaded.config.serve.host;
    const port = opts.port === undefined ? loaded.config.serve.port : Number(opts.port);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    const address = server.address() as { port: number };
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
    log.info({ event: 'serving', url }, `serving the read-only view at ${url} (open it with ?token=...)`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        server.close(() => resolve());
        server.closeAllConnections();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    store.close();
  });

program
  .command('status')
  .description('when each profile last ran and succeeded; warns when the delta cycle is overdue or the rules changed since a full sync (exit 1 on a warning)')
  .option('--json', 'as JSON')
  .option('--integrity', "also check every page of the store (SQLite quick_check: about a full read of the file, minutes at 1,000,000 per side); exit 74 if it is damaged")
  .action((opts: { json?: boolean; integrity?: boolean }) => {
    const loaded = config();
    const store = openReadOnly(loaded, 'no profile has run yet');
    try {
      const damage = opts.integrity ? store.integrityProblems() : undefined;
      const h = { ...health(loaded, store), ...(damage ? { integrity: damage.length ? damage : 'ok' } : {}) };
      if (damage?.length) {
        h.healthy = false;
        h.warnings.unshift(`the store ${loaded.path(loaded.config.metaverse.file)} is damaged (${damage.slice(0, 3).join('; ')}): stop the schedule and restore it from a backup (README: A damaged or lost store)`);
      }
      if (opts.json) process.stdout.write(JSON.stringify(h, null, 2) + '\n');
      else {
        const lines = [h.healthy ? 'healthy' : 'needs attention', ''];
        lines.push(h.profiles.length ? table(['profile', 'last run', 'status', 'started', 'last success', 'at'], h.profiles.map((p) => [p.profile, p.lastRun, p.lastStatus, p.lastStartedAt, p.lastSuccessRun ?? '-', p.lastSuccessAt ?? 'never'])) : 'no runs yet');
        for (const w of h.warnings) lines.push(`warning: ${w}`);
        for (const n of h.notes) lines.push(`note: ${n}`);
        if (damage && !damage.length) lines.push('integrity: ok (every page checked)');
        process.stdout.write(lines.join('\n') + '\n');
      }
      process.exitCode = damage?.length ? EXIT_CODES.store : h.healthy ? 0 : 1;
    } finally {
      store.close();
    }
  });

program
  .command('conflicts')
  .description('open address conflicts: people who get no contact because an object of the other kind has their address (read-only)')
  .option('--json', 'as JSON')
  .option('--csv', 'as CSV')
  .action((opts: { json?: boolean; csv?: boolean }) => {
    const store = openReadOnly(config(), 'there are no conflicts');
    try {
      const lines = new Inspector(store).conflicts();
      if (opts.json) process.stdout.write(JSON.stringify(lines, null, 2) + '\n');
      else if (opts.csv) process.stdout.write(toCsv(['mvId', 'objectType', 'source', 'agent', 'mail', 'others', 'runId', 'foundAt'], lines));
      else if (!lines.length) process.stdout.write('no open address conflicts\n');
      else process.stdout.write(table(['mv', 'type', 'source', 'no contact in', 'mail', 'also held by', 'found (run)'], lines.map((l) => [l.mvId, l.objectType, l.source, l.agent, l.mail, l.others, `${l.foundAt} (${l.runId ?? '-'})`])) + '\n');
    } finally {
      store.close();
    }
  });

registerInspection(
  program,
  (fn) => {
    const loaded = config();
    const store = openReadOnly(loaded, 'there is nothing to show');
    try {
      return fn(store, loaded);
    } finally {
      store.close();
    }
  },
  (message) => new UsageError(message),
);

class UsageError extends Error {}

/** The metaverse for a read-only command; before the first run there is nothing to read. */
function openReadOnly(loaded: LoadedConfig, emptyMeaning: string): Store {
  const file = loaded.path(loaded.config.metaverse.file);
  if (!existsSync(file)) throw new UsageError(`no metaverse at ${file} yet: ${emptyMeaning} (run the initial profile first)`);
  return Store.open(file, { readonly: true });
}

function requireAgent(loaded: LoadedConfig, agent: string): void {
  if (!loaded.config.agents[agent]) throw new ConfigError(loaded.file, [`agents: no agent named "${agent}"; agents are: ${Object.keys(loaded.config.agents).join(', ')}`]);
}

interface RunFlags {
  json?: boolean;
  allowDeletes?: number;
  staging?: boolean;
  limit?: number;
  logLevel?: string;
}

function parseLimit(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`--limit takes a number of objects (1 or more), not "${value}"`);
  return Number(value);
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--allow-deletes takes a number of deletions, not "${value}"`);
  return Number(value);
}

/** The run's logger: the config's file, and stderr at --log-level, DIRBRIDGE_LOG_LEVEL, logging.stderrLevel, or by terminal. */
function loggerFor(loaded: LoadedConfig, flag?: string): Logger {
  const { logging } = loaded.config;
  const chosen = flag ?? process.env.DIRBRIDGE_LOG_LEVEL ?? logging.stderrLevel ?? (process.stderr.isTTY ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(chosen as LogLevel)) throw new UsageError(`log level "${chosen}" is not one of ${LOG_LEVELS.join(', ')}`);
  const file = logging.file ? loaded.path(logging.file) : undefined;
  try {
    return createLogger({ ...(file ? { file } : {}), fileLevel: logging.level, stderrLevel: chosen as LogLevel });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(loaded.file, [`logging.file: cannot open ${file} for appending (${code}); create its folder, or give a path dirbridge may write`]);
  }
}

const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

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
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const { report, purged } = ran;
  if (purged.runs + purged.changes + purged.errors) log.info({ event: 'history-purged', ...purged }, `history older than ${loaded.config.history.retentionDays} days purged`);
  if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printReport(report);
  process.exitCode = EXIT_CODES[report.status];
}

function printReport(r: RunReport): void {
  const out: string[] = [`run ${r.runId} (${r.profile}): ${r.status}`, ''];
  out.push(
    table(
      ['#', 'agent', 'step', 'status', 'adds', 'updates', 'renames', 'deletes', 'unchanged', 'proj', 'joins', 'prov', 'disc', 'staged', 'errors', 'secs'],
      r.steps.map((s) => [s.seq, s.agent, s.added ? `${s.type} (${s.added})` : s.type, s.status, s.stats.adds, s.stats.updates, s.stats.renames, s.stats.deletes, s.stats.unchanged, s.stats.projections, s.stats.joins, s.stats.provisions, s.stats.disconnects, s.stats.exportsStaged, s.stats.errors + s.stats.warnings, Number(s.seconds.toFixed(2))]),
    ),
  );
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

// Output piped into head or less that closes early is not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_CODES.usage;
  } else if (e instanceof ConfigError) {
    process.stderr.write(`dirbridge: ${e.message}\n`);
    process.exitCode = EXIT_CODES.config;
  } else if (e instanceof StoreUnusableError || e instanceof LockUnusableError) {
    process.stderr.write(`dirbridge: ${e.message}\n`);
    process.exitCode = EXIT_CODES.store;
  } else if (e instanceof LockedError) {
    process.stderr.write(`dirbridge: ${e.message}\n`);
    process.exitCode = EXIT_CODES.locked;
  } else if (e instanceof UsageError) {
    process.stderr.write(`dirbridge: ${e.message}\n`);
    process.exitCode = EXIT_CODES.usage;
  } else {
    process.stderr.write(`dirbridge: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT_CODES['stopped-error'];
  }
}
