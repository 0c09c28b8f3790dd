/**
 * Runs that overlap, and runs stopped from outside: a second run never works on a store another holds,
 * onlookers are answered while a run goes on, and a run stopped by Ctrl-C, SIGTERM or kill -9 leaves
 * a history that says so and a store the next run simply goes on with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startServe } from '../integration/harness/serve.js';
import { CLI, freshQuickstart, person, records, type Deployment } from './harness.js';

const PEOPLE = 8_000;

/** The quickstart with many more people, so that its first setup takes some seconds. */
function largeQuickstart(): Deployment {
  const d = freshQuickstart();
  const many = Array.from({ length: PEOPLE }, (_, i) => person(`Many${i} Person`, String(i).padStart(32, 'E'), `many${i}@notes.acme.example`)).join('\n');
  writeFileSync(d.file('domino-names.ldif'), `${d.read('domino-names.ldif').trimEnd()}\n\n${many}\n`);
  return d;
}

function start(d: Deployment, profile: string): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stdout: string }> } {
  const child = spawn(process.execPath, [CLI, '--config', d.config, 'run', profile, '--json'], { env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' } });
  let stdout = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  return { child, exited: new Promise((done) => child.on('exit', (code, signal) => done({ code, signal, stdout }))) };
}

/** Waits until the run has started (its lock is there), then a little longer so it is mid-step. */
async function midRun(d: Deployment, ms = 1500): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(d.file('work/metaverse.db.lock')); i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, ms));
}

const lastRun = (d: Deployment): { status: string; endedAt: string | null } =>
  (JSON.parse(d.cli(['history'], { json: true }).stdout) as { status: string; endedAt: string | null }[])[0]!;

/** After a stopped first setup, ordinary runs finish it: every person gets exactly one contact. */
function expectSetupFinishes(d: Deployment): void {
  const r = d.cli(['run', 'initial']);
  expect(r.code, r.stderr).toBe(2); // the quickstart's deliberate bad entries
  const mails = records(d.read('work/ad-contacts.ldif')).map((rec) => /\nmail: (.*)/.exec(rec)?.[1]);
  expect(mails.filter((m) => m?.startsWith('many')).length).toBe(PEOPLE);
  expect(new Set(mails).size).toBe(mails.length);
}

describe('hostile: crash and concurrency', () => {
  it('a second run while one runs does nothing, exit 75, naming who holds the store; the first goes on', async () => {
    const d = largeQuickstart();
    const first = start(d, 'initial');
    await midRun(d, 300);
    const second = d.cli(['run', 'delta-cycle'], { json: false });
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/another dirbridge run holds .*metaverse\.db\.lock \(pid \d+, initial, since .*\); this run did nothing/);
    expect((await first.exited).code).toBe(2);
    expect(lastRun(d).status).toBe('completed-errors');
  });

  it('status answers at once while a run goes on, and says it is in progress', async () => {
    const d = largeQuickstart();
    const first = start(d, 'initial');
    await midRun(d);
    const started = Date.now();
    const status = d.cli(['status'], { json: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(status.stdout).toMatch(/"lastStatus": "in-progress"/);
    await first.exited;
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops the run at its next page or batch: exit 130, stopped-interrupted in the history, and the next run finishes the job`, async () => {
      const d = largeQuickstart();
      const run = start(d, 'initial');
      await midRun(d);
      run.child.kill(signal);
      const { code, stdout } = await run.exited;
      expect(code).toBe(130);
      expect((JSON.parse(stdout) as { status: string }).status).toBe('stopped-interrupted');
      expect(lastRun(d)).toMatchObject({ status: 'stopped-interrupted', endedAt: expect.any(String) });
      expect(existsSync(d.file('work/metaverse.db.lock'))).toBe(false);
      expectSetupFinishes(d);
    });
  }

  it('kill -9: the next run takes over the lock, records the dead run as stopped-interrupted, and finishes the job', async () => {
    const d = largeQuickstart();
    const run = start(d, 'initial');
    await midRun(d);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(lastRun(d).status).toBe('in-progress');
    expectSetupFinishes(d);
    const history = JSON.parse(d.cli(['history'], { json: true }).stdout) as { status: string }[];
    expect(history.map((h) => h.status)).toEqual(['completed-errors', 'stopped-interrupted']);
  });

  it('the web view answers while a run goes on', async () => {
    const d = largeQuickstart();
    const token = randomBytes(24).toString('hex');
    expect(d.cli(['run', 'initial']).code).toBe(2);
    const served = await startServe(d.config, { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' }, token);
    try {
      const run = start(d, 'full-cycle');
      await midRun(d, 500);
      const started = Date.now();
      const page = await fetch(`${served.base}/runs`, { headers: { Authorization: `Bearer ${token}` } });
      expect(page.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await run.exited).code).toBe(2);
    } finally {
      served.stop();
    }
  });
});
