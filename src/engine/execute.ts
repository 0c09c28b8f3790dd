/**
 * One run of a profile as the CLI and the scheduler start it: take the run lock, open the store, run
 * the steps, then apply the history retention. The lock is released whatever happens.
 */
import type { LoadedConfig } from '../config/load.js';
import { acquireRunLock } from './lock.js';
import { openStore, type RunOptions, type RunReport, runSteps, type StepSpec } from './runner.js';

export interface Retention {
  runs: number;
  changes: number;
  errors: number;
}

export async function executeRun(
  loaded: LoadedConfig,
  profile: string,
  steps: readonly StepSpec[],
  options: RunOptions = {},
): Promise<{ report: RunReport; purged: Retention }> {
  const lock = acquireRunLock(loaded.path(loaded.config.metaverse.file), profile);
  try {
    const store = openStore(loaded);
    try {
      const report = await runSteps(loaded, store, profile, steps, options);
      const cutoff = new Date(Date.now() - loaded.config.history.retentionDays * 86_400_000).toISOString();
      return { report, purged: store.purgeHistoryBefore(cutoff) };
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
