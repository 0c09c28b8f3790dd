/** `dirbridge schedule`: the config's profiles on their cron expressions, one run at a time. */
import type { Command } from 'commander';
import { ConfigError, type LoadedConfig } from '../../config/load.js';
import { executeRun } from '../../engine/execute.js';
import { runOrigin } from '../../util/origin.js';
import { LockedError } from '../../engine/lock.js';
import { loadProfile } from '../../engine/profiles.js';
import { startScheduler } from '../../engine/scheduler.js';
import { logObserver } from '../observers.js';
import { loggerFor } from '../shared.js';

export function registerSchedule(program: Command, config: () => LoadedConfig): void {
  program
    .command('schedule')
    .description("run the profiles of the config's schedule: on their cron expressions, never two at once; SIGTERM lets the current run finish")
    .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
    .action(async (opts: { logLevel?: string }) => {
      const loaded = config();
      const entries = loaded.config.schedule;
      if (!entries.length) throw new ConfigError(loaded.file, ['schedule: empty; add entries like { profile: delta-cycle, cron: "*/10 * * * *" }']);
      for (const e of entries) loadProfile(loaded, e.profile); // a missing profile is a config error now, not at 2 a.m.
      const log = loggerFor(loaded, opts.logLevel ?? (process.stderr.isTTY ? 'info' : undefined));
      // The signal handlers go in before the scheduler announces anything (see serve): a SIGTERM that
      // comes before a handler exists would kill the process instead of letting the current run finish.
      const started: { scheduler?: ReturnType<typeof startScheduler> } = {};
      const stopped = new Promise<void>((resolve) => {
        const shutdown = (signal: string): void => {
          log.info({ event: 'signal', signal }, `${signal}: stopping`);
          void (started.scheduler?.stop() ?? Promise.resolve()).then(resolve);
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
      });
      started.scheduler = startScheduler(
        entries,
        async (name) => {
          const profile = loadProfile(loaded, name);
          try {
            const cron = entries.find((e) => e.profile === name)?.cron ?? '';
            await executeRun(loaded, profile.name, profile.steps, {
              observer: logObserver(log),
              origin: runOrigin('schedule', `schedule: ${name} at "${cron}"`),
            });
          } catch (e) {
            if (!(e instanceof LockedError)) throw e;
            log.warn({ event: 'run-skipped', profile: name }, `${name} is due but ${e.message}: skipped`);
          }
        },
        log,
      );
      await stopped;
    });
}
