/**
 * Crash safety: dirbridge killed with SIGKILL at many different moments of its runs (imports, syncs,
 * exports) while people come and go; afterwards ordinary runs must converge to exactly one contact per
 * person: no duplicate, no lost delete, no contact left behind.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

let slapd: Slapd;
let d: Deployment;

beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoDelta: 'accesslog', dominoPeopleOnly: true }));
});

afterAll(async () => slapd?.stop());

/** Runs a profile and kills it with SIGKILL after `ms` (if it is still running); true if it was killed. */
function runAndKill(profile: string, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, '--config', d.configFile, 'run', profile, '--json'], { env: d.env, stdio: 'ignore' });
    let killed = false;
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, ms);
    child.on('exit', () => {
      clearTimeout(timer);
      done(killed);
    });
  });
}

describe('killed at many points', () => {
  it('converges to exactly one contact per person, whatever moment the process died', async () => {
    const people = new Map<string, string>(); // mail -> DN
    let next = 0;
    const add = (count: number): void => {
      for (let i = 0; i < count; i++, next++) {
        const mail = `crash${next}@notes.acme.test`;
        people.set(mail, d.addDominoPerson({ given: `Crash${next}`, sn: `Test${next}`, mail }));
      }
    };
    const remove = (count: number): void => {
      for (const [mail, dn] of [...people].slice(0, count)) {
        slapd.modify(`dn: ${dn}\nchangetype: delete\n`);
        people.delete(mail);
      }
    };

    add(25);
    let kills = 0;
    // Delays spread over a run (about 0.3 to 0.6 s here): start, imports, syncs and exports.
    const delays = [120, 160, 200, 240, 280, 320, 360, 400, 450, 500, 140, 220, 300, 380];
    for (const [i, ms] of delays.entries()) {
      if (await runAndKill(i < 4 ? 'initial' : 'delta-cycle', ms)) kills++;
      add(4);
      if (i % 2 === 1) remove(2);
    }
    expect(kills).toBeGreaterThanOrEqual(7); // the test must really interrupt runs

    // Ordinary runs afterwards: the first may reconcile (warnings), then all is quiet.
    const settle = d.cli(['run', 'full-cycle', '--json']);
    const problems = settle.report?.steps.flatMap((s) => s.problems) ?? [];
    expect({ status: settle.report?.status, errors: problems.filter((p) => p.severity === 'error') }).toMatchObject({ errors: [] });
    expect(problems.every((p) => ['export-outcome-reconciled', 'exported-change-not-reimported'].includes(p.code))).toBe(true);
    const quiet = d.cli(['run', 'delta-cycle', '--json']);
    expect({ status: quiet.report?.status, problems: quiet.report?.steps.flatMap((s) => s.problems) }).toEqual({ status: 'success', problems: [] });

    const contacts = await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['mail', 'adminDescription']);
    const mails = contacts.map((c) => String(c.mail));
    expect(mails.length).toBe(new Set(mails).size); // no duplicate
    expect(new Set(mails)).toEqual(new Set(people.keys())); // no lost delete, no missing contact
    expect(contacts.every((c) => c.adminDescription === 'dirbridge:managed')).toBe(true);
  });

  it('an add whose result was lost is adopted, not repeated: with its intent recorded, and without (power loss)', async () => {
    const stage = join(d.dir, 'stage.yaml');
    writeFileSync(stage, 'steps:\n  - { agent: domino-people, type: delta-import-sync }\n');
    const mails = ['lost0@notes.acme.test', 'lost1@notes.acme.test'];
    mails.forEach((mail, i) => d.addDominoPerson({ given: `Lost${i}`, sn: 'Result', mail }));
    expect(d.cli(['run', stage, '--json']).report?.status).toBe('success');
    // As if an export had written both contacts and died before recording it; the first also had its
    // intent committed, the second lost even that (power loss with the last commit not yet on disk).
    const db = new Database(join(d.dir, 'metaverse.db'));
    // A provisioned contact's add writes its connector-space image.
    const pending = db
      .prepare(
        "SELECT p.cs_id AS csId, p.dn, c.attributes FROM pending_export p JOIN cs_object c ON c.id = p.cs_id WHERE p.agent = 'ad-contacts' AND p.operation = 'add' ORDER BY p.dn",
      )
      .all() as { csId: number; dn: string; attributes: string }[];
    expect(pending.map((p) => p.dn)).toEqual(mails.map((_, i) => `CN=Lost${i} Result,${d.adContactsOu}`));
    db.prepare('UPDATE pending_export SET sent_at = ? WHERE cs_id = ?').run(new Date().toISOString(), pending[0]!.csId);
    db.close();
    for (const p of pending) {
      const attrs = JSON.parse(p.attributes) as Record<string, string[]>;
      await d.adAdd(p.dn, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], ...attrs });
    }

    const r = d.cli(['run', 'delta-cycle', '--json']);
    const problems = r.report!.steps.flatMap((s) => s.problems);
    expect(problems.map((p) => [p.code, p.object])).toEqual(pending.map((p) => ['export-outcome-reconciled', p.dn]));
    expect(r.report!.status).toBe('completed-warnings');
    const contacts = await d.adSearch(d.adContactsOu, '(|(mail=lost0@notes.acme.test)(mail=lost1@notes.acme.test))', ['mail']);
    expect(contacts).toHaveLength(2);
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
  });
});
