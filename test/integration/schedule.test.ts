/**
 * dirbridge schedule as a long-running process, on the embedded LDIF deployment (the quickstart's
 * files): profiles start on their cron expressions, never two at once, and SIGTERM lets the run in
 * progress finish before the process exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { quickstartCopy } from './harness/quickstart.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

const scheduled = (schedule: unknown): string => quickstartCopy({ schedule }).config;

describe('dirbridge schedule', () => {
  it('runs the profile on its cron expression, one run at a time, and stops cleanly on SIGTERM', async () => {
    const config = scheduled([{ profile: 'delta-cycle', cron: '* * * * * *' }]);
    expect(spawnSync(process.execPath, [CLI, '--config', config, 'run', 'initial'], { encoding: 'utf8' }).status).toBe(2); // the sample's deliberate errors
    const child = spawn(process.execPath, [CLI, '--config', config, 'schedule', '--log-level', 'info'], { env: { ...process.env } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise((r) => setTimeout(r, 3500));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const events = stderr
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events[0]).toBe('scheduled');
    expect(events.at(-1)).toBe('scheduler-stopped');

    const db = new Database(join(config, '../work/metaverse.db'), { readonly: true });
    const runs = db.prepare("SELECT id, status, started_at, ended_at FROM run WHERE profile = 'delta-cycle' ORDER BY id").all() as {
      status: string;
      started_at: string;
      ended_at: string;
    }[];
    db.close();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.status === 'success' && r.ended_at)).toBe(true);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.started_at >= runs[i - 1]!.ended_at).toBe(true);
  });

  it('a cron expression that is not one, or an unknown profile, is a configuration error before anything runs', () => {
    const bad = spawnSync(process.execPath, [CLI, '--config', scheduled([{ profile: 'delta-cycle', cron: 'every ten minutes' }]), 'schedule'], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(78);
    expect(bad.stderr).toMatch(/schedule\.0\.cron: "every ten minutes" is not a cron expression/);
    const unknown = spawnSync(process.execPath, [CLI, '--config', scheduled([{ profile: 'nightly', cron: '0 2 * * *' }]), 'schedule'], { encoding: 'utf8' });
    expect(unknown.status).toBe(78);
    expect(unknown.stderr).toMatch(/no run profile "nightly"/);
  });
});
