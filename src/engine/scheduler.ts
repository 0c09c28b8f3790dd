/**
 * dirbridge schedule: a long-running process that starts run profiles on cron expressions (croner),
 * never two at once: a profile due while another runs is skipped and logged, as is one that finds the
 * run lock held by another process. stop() lets the current run finish; nothing is cut in the middle.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { loadProfile } from './profiles.js';

export interface ScheduleEntry {
  profile: string;
  cron: string;
}

export interface Scheduler {
  /** Stops starting runs and resolves when the run in progress (if any) has ended. */
  stop(): Promise<void>;
}

export function startScheduler(entries: readonly ScheduleEntry[], run: (profile: string) => Promise<void>, log: Logger): Scheduler {
  let current: Promise<void> | undefined;
  let currentProfile = '';
  const jobs = entries.map(
    (entry) =>
      new Cron(entry.cron, { name: entry.profile, catch: true }, async () => {
        if (current) {
          log.warn(
            { event: 'run-skipped', profile: entry.profile, running: currentProfile },
            `${entry.profile} is due but ${currentProfile} is still running: skipped`,
          );
          return;
        }
        currentProfile = entry.profile;
        current = run(entry.profile)
          .catch(
            (e: unknown) =>
              void log.error({ event: 'run-failed', profile: entry.profile, err: (e as Error).message }, `${entry.profile} failed: ${(e as Error).message}`),
          )
          .finally(() => {
            current = undefined;
          });
        await current;
      }),
  );
  for (const [i, job] of jobs.entries())
    log.info(
      { event: 'scheduled', profile: entries[i]!.profile, cron: entries[i]!.cron, next: job.nextRun()?.toISOString() },
      `${entries[i]!.profile} scheduled (${entries[i]!.cron})`,
    );
  return {
    async stop() {
      for (const job of jobs) job.stop();
      if (current) {
        log.info({ event: 'scheduler-stopping', profile: currentProfile }, `waiting for ${currentProfile} to finish`);
        await current;
      }
      log.info({ event: 'scheduler-stopped' }, 'scheduler stopped');
    },
  };
}

/**
 * When each agent next runs on the config's schedule: the soonest scheduled profile with a step of
 * that agent (a profile that cannot be read gives no time; `schedule` itself refuses it).
 */
export function nextScheduledRuns(loaded: LoadedConfig, from = new Date()): Map<string, { profile: string; at: string }> {
  const next = new Map<string, { profile: string; at: string }>();
  for (const entry of loaded.config.schedule) {
    let agents: string[];
    try {
      agents = [...new Set(loadProfile(loaded, entry.profile).steps.map((s) => s.agent))];
    } catch {
      continue;
    }
    const at = new Cron(entry.cron, { paused: true }).nextRun(from)?.toISOString();
    if (!at) continue;
    for (const agent of agents) {
      const known = next.get(agent);
      if (!known || at < known.at) next.set(agent, { profile: entry.profile, at });
    }
  }
  return next;
}
