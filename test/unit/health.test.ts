import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { health } from '../../src/engine/health.js';
import { configFingerprint } from '../../src/engine/runner.js';
import { Store } from '../../src/metaverse/store.js';
import { emptyStats } from '../../src/model/objects.js';

const ROOT = resolve(import.meta.dirname, '../..');
const loaded = loadConfig(join(ROOT, 'examples/quickstart/dirbridge.yaml'), {});

function run(store: Store, profile: string, status: string, steps: { agent: string; type: string }[] = [], fingerprint = configFingerprint(loaded)): number {
  const id = store.startRun(profile, undefined, fingerprint);
  steps.forEach((s, i) => store.finishStep(store.startStep(id, i + 1, s.agent, s.type), 'success', emptyStats()));
  store.finishRun(id, status);
  return id;
}

const fullSyncs = Object.keys(loaded.config.rules).map((agent) => ({ agent, type: 'full-sync' }));

describe('dirbridge status', () => {
  it("is healthy after a full sync under today's rules and a recent delta cycle", () => {
    const store = Store.open(':memory:');
    run(store, 'initial', 'completed-errors', fullSyncs);
    run(store, 'delta-cycle', 'success');
    const h = health(loaded, store);
    expect({ healthy: h.healthy, warnings: h.warnings }).toEqual({ healthy: true, warnings: [] });
    expect(h.profiles.map((p) => [p.profile, p.lastStatus])).toEqual([
      ['delta-cycle', 'success'],
      ['initial', 'completed-errors'],
    ]);
  });

  it('warns when the delta cycle is overdue, or failed since its last success', () => {
    const store = Store.open(':memory:');
    run(store, 'initial', 'success', fullSyncs);
    const ok = run(store, 'delta-cycle', 'success');
    run(store, 'delta-cycle', 'stopped-server-down');
    const h = health(loaded, store, Date.now() + 2 * 60 * 60_000);
    expect(h.healthy).toBe(false);
    expect(h.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^delta-cycle last succeeded 1[12]\\d minutes ago \\(run ${ok}\\), longer than health.maxAgeMinutes \\(60\\); its last run \\d+ ended stopped-server-down`,
        ),
      ),
    ]);
  });

  it('needs attention when the last run of a profile stopped, naming the run and the reason, though the delta cycle is not overdue', () => {
    const store = Store.open(':memory:');
    run(store, 'initial', 'success', fullSyncs);
    run(store, 'delta-cycle', 'success');
    const stopped = store.startRun('full-cycle', undefined, configFingerprint(loaded));
    store.finishStep(store.startStep(stopped, 1, 'domino-people', 'full-import'), 'success', emptyStats());
    store.finishStep(
      store.startStep(stopped, 2, 'ad-contacts', 'export'),
      'stopped-deletion-threshold-exceeded',
      emptyStats(),
      '1000 deletions are pending for ad-contacts',
    );
    store.finishRun(stopped, 'stopped-deletion-threshold-exceeded');
    const h = health(loaded, store);
    expect(h.healthy).toBe(false);
    expect(h.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^full-cycle: its last run ${stopped} \\(.*\\) ended stopped-deletion-threshold-exceeded: 1000 deletions are pending for ad-contacts$`),
      ),
    ]);
    // A later run of that profile that succeeds clears it.
    run(store, 'full-cycle', 'success', fullSyncs);
    expect(health(loaded, store).healthy).toBe(true);
  });

  it("warns when the rules changed since an agent's last full sync", () => {
    const store = Store.open(':memory:');
    run(store, 'initial', 'success', fullSyncs, 'an older rule set');
    run(store, 'delta-cycle', 'success');
    const h = health(loaded, store);
    expect(h.warnings).toHaveLength(Object.keys(loaded.config.rules).length);
    expect(h.warnings[0]).toMatch(/^the rules changed since the last full sync of domino-people \(run 1, .*\): run full-cycle/);
  });
});

describe('retention', () => {
  it('purges the change log, errors and runs older than the cutoff, keeping runs the lineage or objects still name', () => {
    const store = Store.open(':memory:');
    const old = run(store, 'delta-cycle', 'success');
    const named = run(store, 'initial', 'success');
    const stepOld = store.startStep(old, 9, 'ad-contacts', 'export');
    store.recordError({ runId: old, stepId: stepOld }, { agent: 'ad-contacts', severity: 'error', object: 'cn=x', code: 'export-failed', message: 'm' });
    store.logChange({ runId: old, stepId: stepOld }, 'cs', 'ad-contacts', 1, 'cn=x', 'export-update', { a: ['1'] }, { a: ['2'] });
    store.createMv({ runId: named, stepId: store.startStep(named, 1, 'domino-people', 'full-sync') }, 'DominoUser', { cn: ['A'] }, {});
    const recent = run(store, 'delta-cycle', 'success');
    const purged = store.purgeHistoryBefore(new Date(Date.now() + 1000).toISOString());
    expect(purged.changes).toBeGreaterThanOrEqual(2);
    expect(purged.errors).toBe(1);
    // The run that created the metaverse object stays, so its lineage still resolves; the others go.
    expect(store.getRun(named)).toBeDefined();
    expect(store.getRun(old)).toBeUndefined();
    expect(store.getRun(recent)).toBeUndefined();
    expect(store.purgeHistoryBefore(new Date(Date.now() - 86_400_000).toISOString())).toEqual({ runs: 0, changes: 0, errors: 0 });
  });
});
