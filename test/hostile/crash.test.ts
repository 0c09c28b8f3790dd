/**
 * kill -9 at many moments of runs of the quickstart's LDIF deployment while people come and go: the
 * file agent journals each applied change (flushed) before it reports it done, and replays the
 * journal when the file is next used, so afterwards ordinary runs converge to the same contacts a
 * clean first setup of the final people file gives: no duplicate, no lost deletion, no missing contact.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quickstartCopy } from '../integration/harness/quickstart.js';

const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');
const env = { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' };

function run(config: string, profile: string, ...extra: string[]): { code: number; status: string; problems: { code: string; severity: string }[] } {
  const r = spawnSync(process.execPath, [CLI, '--config', config, 'run', profile, '--json', ...extra], { env, encoding: 'utf8' });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`run ${profile}: exit ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { status: string; steps: { problems: { code: string; severity: string }[] }[] };
  return { code: r.status ?? -1, status: report.status, problems: report.steps.flatMap((s) => s.problems) };
}

/** How long an uninterrupted run of the profile takes, in milliseconds. */
function timedRun(config: string, profile: string): number {
  const started = performance.now();
  run(config, profile);
  return performance.now() - started;
}

function runAndKill(config: string, profile: string, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, '--config', config, 'run', profile, '--json'], { env, stdio: 'ignore' });
    let killed = false;
    const timer = setTimeout(() => (killed = child.kill('SIGKILL')), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      done(killed);
    });
  });
}

/** The mails of the contacts in an LDIF contacts file, one entry per contact. */
const contactMails = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split(/\n\n/)
    .filter((r) => /\nobjectClass: contact\n/i.test(`\n${r}\n`))
    .map((r) => /\nmail: (.*)/.exec(r)?.[1] ?? '(none)');

const person = (i: number): string =>
  `dn: cn=Kill${i} Test,ou=Sales,o=Acme\nobjectClass: dominoPerson\ncn: Kill${i} Test\ngivenName: Kill${i}\nsn: Test\nuid: kill${i}\ndominoUNID: ${String(i).padStart(32, 'D')}\ninternetaddress: kill${i}@notes.acme.example\nmailsystem: 1\n`;

describe('hostile: crash and concurrency', () => {
  it('an LDIF deployment killed at many moments converges to exactly the contacts a clean setup gives', async () => {
    const { config, dir } = quickstartCopy();
    const base = readFileSync(join(dir, 'domino-names.ldif'), 'utf8').trimEnd();
    const present = new Set<number>();
    let next = 0;
    // Written as an administrator should: to another name, then renamed into place.
    const writePeople = (): void => {
      const text = [base, ...[...present].sort((a, b) => a - b).map(person)].join('\n\n') + '\n';
      writeFileSync(join(dir, 'domino-names.ldif.new'), text);
      renameSync(join(dir, 'domino-names.ldif.new'), join(dir, 'domino-names.ldif'));
    };
    const add = (n: number): void => {
      for (let i = 0; i < n; i++) present.add(next++);
      writePeople();
    };
    const remove = (n: number): void => {
      for (const i of [...present].slice(0, n)) present.delete(i);
      writePeople();
    };

    // Kill moments are fractions of how long an uninterrupted run takes on this machine now (shared
    // machines vary by a factor of two or more), and the test goes on until it has really
    // interrupted enough runs: fixed delays made it interrupt too few runs when the machine was fast.
    const timing = quickstartCopy();
    add(300);
    writeFileSync(join(timing.dir, 'domino-names.ldif'), readFileSync(join(dir, 'domino-names.ldif')));
    const initialMs = timedRun(timing.config, 'initial');
    const deltaMs = timedRun(timing.config, 'delta-cycle');
    // A run with people coming and going takes longer than the quiet one timed: past 1 reaches its end.
    const fractions = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 0.25, 0.45, 0.65, 0.85, 1.05];
    let kills = 0;
    for (let i = 0; kills < 14 && i < 45; i++) {
      const profile = i < 3 ? 'initial' : 'delta-cycle';
      const ms = Math.max(50, Math.round((profile === 'initial' ? initialMs : deltaMs) * fractions[i % fractions.length]!));
      if (await runAndKill(config, profile, ms)) kills++;
      if (i % 3 === 0) add(40);
      if (i % 3 === 1) remove(60);
    }
    expect(kills).toBeGreaterThanOrEqual(10); // the test must really interrupt runs

    // The oracle: a clean first setup of the final people file (with the quickstart's deliberate errors).
    const clean = quickstartCopy();
    writeFileSync(join(clean.dir, 'domino-names.ldif'), readFileSync(join(dir, 'domino-names.ldif')));
    const expectedErrors = new Set(
      run(clean.config, 'initial')
        .problems.filter((p) => p.severity === 'error')
        .map((p) => p.code),
    );

    // The departures are the test's own: past the deletion threshold they need the operator's consent.
    const settled = run(config, 'full-cycle', '--allow-deletes', '100000');
    expect(settled.problems.filter((p) => p.severity === 'error' && !expectedErrors.has(p.code))).toEqual([]);
    const quiet = run(config, 'delta-cycle');
    expect({ status: quiet.status, problems: quiet.problems }).toEqual({ status: 'success', problems: [] });

    const got = contactMails(join(dir, 'work/ad-contacts.ldif'));
    expect(got.filter((m, i) => got.indexOf(m) !== i)).toEqual([]); // no duplicate
    expect(new Set(got)).toEqual(new Set(contactMails(join(clean.dir, 'work/ad-contacts.ldif'))));
    expect(new Set(got.filter((m) => m.startsWith('kill')))).toEqual(new Set([...present].map((i) => `kill${i}@notes.acme.example`)));
  }, 180_000);

  it('a first run killed while it creates the store leaves no empty store behind: the next run starts cleanly', async () => {
    let kills = 0;
    for (const ms of [40, 60, 80, 100, 120, 140, 160, 200]) {
      const { config, dir } = quickstartCopy();
      if (await runAndKill(config, 'initial', ms)) kills++;
      const again = run(config, 'initial');
      expect({ ms, code: again.code }).toEqual({ ms, code: 2 }); // the quickstart's deliberate bad entries, nothing else
      expect(readFileSync(join(dir, 'work/metaverse.db')).length).toBeGreaterThan(0);
    }
    expect(kills).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
