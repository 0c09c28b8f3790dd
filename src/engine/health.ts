/**
 * dirbridge status: is the schedule healthy? When each profile last ran and last succeeded, and
 * warnings an operator must act on: the scheduled delta cycle has not succeeded for too long, or the
 * rules changed since an agent's last full sync (only a full sync applies a rule change to every
 * object).
 */
import type { LoadedConfig } from '../config/load.js';
import { Inspector } from '../metaverse/inspect.js';
import type { Store } from '../metaverse/store.js';
import { configFingerprint } from './runner.js';

export interface Health {
  healthy: boolean;
  profiles: ReturnType<Inspector['profiles']>;
  warnings: string[];
  notes: string[];
}

export function health(loaded: LoadedConfig, store: Store, now = Date.now()): Health {
  const inspector = new Inspector(store);
  const profiles = inspector.profiles();
  const warnings: string[] = [];
  const notes: string[] = [];
  const { deltaProfile, maxAgeMinutes } = loaded.config.health;
  const delta = profiles.find((p) => p.profile === deltaProfile);
  if (!delta?.lastSuccessAt) warnings.push(`${deltaProfile} has never succeeded`);
  else {
    const minutes = Math.floor((now - Date.parse(delta.lastSuccessAt)) / 60_000);
    if (minutes > maxAgeMinutes)
      warnings.push(
        `${deltaProfile} last succeeded ${minutes} minutes ago (run ${delta.lastSuccessRun}), longer than health.maxAgeMinutes (${maxAgeMinutes}); its last run ${delta.lastRun} ended ${delta.lastStatus}`,
      );
  }
  // A profile whose last run stopped (a threshold, a server down, Ctrl-C) needs a person even when the
  // delta cycle is not yet overdue: the stop is why nothing moved. Overdue already says so for the delta profile.
  for (const p of profiles) {
    if (!p.lastStatus.startsWith('stopped-')) continue;
    if (p.profile === deltaProfile && warnings.some((w) => w.startsWith(`${deltaProfile} last succeeded`))) continue;
    const reason = store.runSteps(p.lastRun).find((s) => s.status === p.lastStatus || s.status.startsWith('stopped-'))?.message;
    warnings.push(`${p.profile}: its last run ${p.lastRun} (${p.lastStartedAt}) ended ${p.lastStatus}${reason ? `: ${reason}` : ''}`);
  }
  const current = configFingerprint(loaded);
  for (const agent of Object.keys(loaded.config.rules)) {
    const last = inspector.lastFullSync(agent);
    if (!last) warnings.push(`${agent} has never had a full sync: run the initial or full-cycle profile`);
    else if (last.fingerprint !== current)
      warnings.push(`the rules changed since the last full sync of ${agent} (run ${last.runId}, ${last.endedAt}): run full-cycle so every object gets them`);
  }
  const conflicts = store.addressConflicts().length;
  if (conflicts) notes.push(`${conflicts} open address conflicts (dirbridge conflicts)`);
  for (const agent of Object.keys(loaded.config.agents)) {
    const pending = store.countPendingExports(agent);
    if (pending) notes.push(`${pending} exports pending for ${agent} (dirbridge plan --agent ${agent})`);
  }
  return { healthy: warnings.length === 0, profiles, warnings, notes };
}
