/**
 * The guards an administrator relies on to run dirbridge unattended, against the real directories:
 * the deletion threshold and its one-run override, the refusal of an emptied full import, the error
 * limit, the run lock, staging mode and the object limit per step.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type DeployOptions, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const PEOPLE = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay'];

async function setUp(options: DeployOptions): Promise<{ slapd: Slapd; d: Deployment }> {
  const { slapd, d } = await deployWithSlapd(options);
  for (const given of PEOPLE) d.addDominoPerson({ given, sn: 'Safe', mail: `${given.toLowerCase()}.safe@notes.acme.test` });
  const r = d.cli(['run', 'initial', '--json']);
  expect({ status: r.report?.status, stderr: r.stderr }).toEqual({ status: 'success', stderr: '' });
  return { slapd, d };
}

const emptyPeopleOu = (slapd: Slapd, d: Deployment): void =>
  slapd.modify(PEOPLE.map((g) => `dn: cn=${g} Safe,${d.dominoPeopleOu}\nchangetype: delete\n`).join('\n'));

async function contactCount(d: Deployment): Promise<number> {
  return (await d.adSearch(d.adContactsOu, '(objectClass=contact)')).length;
}

function message(r: ReturnType<Deployment['cli']>): string {
  return r.report?.steps.map((s) => (s as { message?: string }).message ?? '').join(' ') ?? '';
}

describe('deletion threshold', () => {
  let slapd: Slapd;
  let d: Deployment;
  beforeAll(async () => {
    // accesslog: the delta cycle itself sees the deletions.
    ({ slapd, d } = await setUp({ dominoDelta: 'accesslog', dominoPeopleOnly: true, safety: { deletionThreshold: { count: 3, percent: 100 } } }));
  });
  afterAll(async () => slapd?.stop());

  it('plan shows a pending modification with its values before and after, and changes nothing', () => {
    slapd.modify(`dn: cn=Ada Safe,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Countess, "Analyst"\n`);
    expect(d.cli(['run-step', 'domino-people', 'delta-import-sync', '--json']).report?.status).toBe('success');
    const plan = JSON.parse(d.cli(['plan', '--json']).stdout) as {
      summary: unknown[];
      exports: { agent: string; operation: string; dn: string; changes?: Record<string, unknown> }[];
    };
    expect(plan.summary).toEqual([{ agent: 'ad-contacts', adds: 0, modifies: 1, renames: 0, deletes: 0 }]);
    expect(plan.exports[0]).toMatchObject({
      agent: 'ad-contacts',
      operation: 'update',
      dn: `CN=Ada Safe,${d.adContactsOu}`,
      changes: { title: { before: [], after: ['Countess, "Analyst"'] } },
    });
    const csv = d.cli(['plan', 'delta-cycle', '--csv']).stdout.split('\r\n');
    expect(csv[0]).toBe('agent,operation,dn,newDn,attribute,before,after,attempts,lastError');
    expect(csv[1]).toBe(`"ad-contacts","modify","CN=Ada Safe,${d.adContactsOu}","","title","","Countess, ""Analyst""","0",""`);
    // Read-only: asking again shows the same, and the export still sends it.
    expect(JSON.parse(d.cli(['plan', '--json']).stdout)).toEqual(plan);
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    expect(JSON.parse(d.cli(['plan', '--json']).stdout).exports).toEqual([]);
  });

  it('emptying the Domino people OU deletes no contact: the delta and full cycles stop with the threshold status', async () => {
    expect(await contactCount(d)).toBe(6);
    emptyPeopleOu(slapd, d);
    for (const profile of ['delta-cycle', 'full-cycle']) {
      const r = d.cli(['run', profile, '--json']);
      expect(r.report?.status).toBe('stopped-deletion-threshold-exceeded');
      expect(r.code).toBe(5);
      expect(message(r)).toMatch(/6 deletions are pending for ad-contacts, more than 3 \(count\).*--allow-deletes 6/);
      expect(await contactCount(d)).toBe(6);
    }
    const plan = JSON.parse(d.cli(['plan', '--agent', 'ad-contacts', '--json']).stdout) as { exports: { operation: string; dn: string }[] };
    expect(plan.exports.map((e) => e.operation)).toEqual(Array(6).fill('delete'));
    expect(plan.exports.map((e) => e.dn).sort()).toEqual(PEOPLE.map((g) => `CN=${g} Safe,${d.adContactsOu}`).sort());
  });

  it('too small an allowance changes nothing; --allow-deletes with the count applies exactly those deletes and is recorded', async () => {
    const short = d.cli(['run', 'delta-cycle', '--json', '--allow-deletes', '5']);
    expect(short.report?.status).toBe('stopped-deletion-threshold-exceeded');
    expect(await contactCount(d)).toBe(6);

    const r = d.cli(['run', 'delta-cycle', '--json', '--allow-deletes', '6']);
    expect({ status: r.report?.status, stderr: r.stderr }).toEqual({ status: 'success', stderr: '' });
    expect(r.report!.steps.find((s) => s.agent === 'ad-contacts' && s.type === 'export')!.stats.deletes).toBe(6);
    expect(await contactCount(d)).toBe(0);
    const db = new Database(join(d.dir, 'metaverse.db'), { readonly: true });
    expect(db.prepare('SELECT allowed_deletes FROM run WHERE id = ?').pluck().get(r.report!.runId)).toBe(6);
    db.close();
  });
});

describe('an emptied full import, the error limit and the run lock', () => {
  let slapd: Slapd;
  let d: Deployment;
  beforeAll(async () => {
    // timestamp (Domino's default): only the full import can see the deletions.
    ({ slapd, d } = await setUp({ dominoPeopleOnly: true, safety: { errorLimit: 2 } }));
  });
  afterAll(async () => slapd?.stop());

  it('a full import that returns nothing is not taken as deletions, and keeps its watermark', async () => {
    emptyPeopleOu(slapd, d);
    const before = d.watermark('domino-people');
    const r = d.cli(['run', 'full-cycle', '--json']);
    expect(r.report?.status).toBe('stopped-import-shrunk');
    expect(r.code).toBe(6);
    expect(message(r)).toMatch(/full import of domino-people returned no objects at all.*--allow-deletes 6/);
    expect(r.report!.steps).toHaveLength(1);
    expect(d.watermark('domino-people')).toEqual(before);
    expect(await contactCount(d)).toBe(6);

    const allowed = d.cli(['run', 'full-cycle', '--json', '--allow-deletes', '6']);
    expect(allowed.report?.status).toBe('success');
    expect(await contactCount(d)).toBe(0);
  });

  it('a run stops at its error limit', () => {
    for (const given of ['Nia', 'Omar', 'Pia']) d.addDominoPerson({ given, sn: 'Nomail' });
    const r = d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('stopped-error-limit');
    expect(r.code).toBe(7);
    expect(message(r)).toMatch(/error limit \(2 errors, safety.errorLimit\)/);
    expect(r.report!.steps.map((s) => s.type)).toEqual(['delta-import-sync']);
  });

  it('one run at a time: a second run exits at once with code 75; a stale lock is taken over', () => {
    const lock = join(d.dir, 'metaverse.db.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, what: 'delta-cycle', since: '2026-11-22T00:00:00Z' }));
    const locked = d.cli(['run', 'delta-cycle', '--json']);
    expect(locked.code).toBe(75);
    expect(locked.stderr).toMatch(/another dirbridge run holds .*metaverse\.db\.lock \(pid \d+, delta-cycle/);
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, what: 'delta-cycle', since: '2026-11-22T00:00:00Z' }));
    const r = d.cli(['run', 'delta-cycle', '--json']);
    expect(r.code).not.toBe(75);
    expect(r.report).toBeDefined();
  });

  it('staging mode imports and synchronizes but exports nothing; the next run sends what was kept', async () => {
    d.addDominoPerson({ given: 'Gus', sn: 'Staged', mail: 'gus.staged@notes.acme.test' });
    const staged = d.cli(['run', 'delta-cycle', '--json', '--staging']);
    const warnings = staged.report!.steps.flatMap((s) => s.problems).filter((p) => p.code === 'staging-mode');
    expect(warnings).toEqual([expect.objectContaining({ object: 'ad-contacts', message: expect.stringMatching(/1 exports kept pending/) })]);
    expect((await d.adSearch(d.adContactsOu, '(mail=gus.staged@notes.acme.test)')).length).toBe(0);
    const plan = JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: { operation: string; dn: string }[] };
    expect(plan.exports).toContainEqual(expect.objectContaining({ operation: 'add', dn: `CN=Gus Staged,${d.adContactsOu}` }));
    d.cli(['run', 'delta-cycle', '--json']);
    expect((await d.adSearch(d.adContactsOu, '(mail=gus.staged@notes.acme.test)')).length).toBe(1);
  });
});

describe('an object limit per step', () => {
  let slapd: Slapd;
  let d: Deployment;
  beforeAll(async () => {
    ({ slapd, d } = await setUp({ dominoPeopleOnly: true }));
  });
  afterAll(async () => slapd?.stop());

  const newcomers = ['Gil', 'Hal', 'Ida', 'Jo', 'Kit'];

  it('an export stops after the limit with stopped-object-limit (exit 8); the rest stay pending for the next run', async () => {
    for (const given of newcomers) d.addDominoPerson({ given, sn: 'Limit', mail: `${given.toLowerCase()}.limit@notes.acme.test` });
    expect(d.cli(['run', 'delta-cycle', '--staging', '--json']).report?.status).toBe('completed-warnings');
    const limited = d.cli(['run-step', 'ad-contacts', 'export', '--limit', '2', '--json']);
    expect(limited.code).toBe(8);
    expect(limited.report?.status).toBe('stopped-object-limit');
    expect(limited.report?.steps[0]?.stats.adds).toBe(2);
    expect(message(limited)).toMatch(/object limit after 2 exports \(limit 2\); 3 left for the next run/);
    expect(await contactCount(d)).toBe(PEOPLE.length + 2);
    expect((JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: unknown[] }).exports).toHaveLength(3);
    expect(d.cli(['run-step', 'ad-contacts', 'export', '--json']).report?.status).toBe('success');
    expect(await contactCount(d)).toBe(PEOPLE.length + newcomers.length);
  });

  it('a sync stops after the limit; a full import stops between pages without deleting or moving its watermark', async () => {
    const sync = d.cli(['run-step', 'domino-people', 'full-sync', '--limit', '4', '--json']);
    expect(sync.report?.status).toBe('stopped-object-limit');
    expect(message(sync)).toMatch(/after 4 objects synchronized \(limit 4\); 7 left/);

    // Pages of two: the third page of the eleven people is past a limit of 3.
    const config = parse(readFileSync(d.configFile, 'utf8')) as { agents: Record<string, { pageSize?: number }> };
    config.agents['domino-people']!.pageSize = 2;
    writeFileSync(d.configFile, stringify(config));
    const before = d.watermark('domino-people');
    const imported = d.cli(['run-step', 'domino-people', 'full-import', '--limit', '3', '--json']);
    expect(imported.report?.status).toBe('stopped-object-limit');
    expect(imported.report?.steps[0]?.stats.deletes).toBe(0);
    expect(message(imported)).toMatch(/after 4 objects imported/);
    expect(d.watermark('domino-people')).toEqual(before);
    const whole = d.cli(['run-step', 'domino-people', 'full-import', '--json']);
    expect(whole.report?.status).toBe('success');
    expect(whole.report?.steps[0]?.stats.unchanged).toBe(PEOPLE.length + newcomers.length);
  });
});

describe('preview: what a sync would do to one object, rule by rule', () => {
  let slapd: Slapd;
  let d: Deployment;
  beforeAll(async () => {
    ({ slapd, d } = await setUp({ dominoPeopleOnly: true }));
  });
  afterAll(async () => slapd?.stop());

  interface Preview {
    matchedBy: string;
    objects: { agent: string; dn: string }[];
    trace: { object: string; agent: string; rule: string; decision: string }[];
    changes: { operation: string; before: unknown; after: unknown }[];
    exports: {
      staged: { operation: string; dn: string; agent: string; changes?: Record<string, { before: string[]; after: string[] }> }[];
      withdrawn: unknown[];
    };
    problems: { code: string }[];
  }
  const previewOf = (q: string): Preview => JSON.parse(d.cli(['preview', q, '--json']).stdout) as Preview;
  const counts = (): unknown => {
    const mv = new Database(join(d.dir, 'metaverse.db'), { readonly: true });
    const n = ['run', 'run_step', 'run_error', 'change_log', 'lineage', 'pending_export', 'mv_object', 'cs_object'].map((t) => [
      t,
      mv.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get(),
    ]);
    const pending = mv.prepare('SELECT COUNT(*) FROM cs_object WHERE pending_import IS NOT NULL').pluck().get();
    mv.close();
    return { n, pending };
  };

  it('an imported change: scope, join, each import and export flow with its source, the export it would stage; nothing written', () => {
    slapd.modify(`dn: cn=Ben Safe,${d.dominoPeopleOu}\nchangetype: modify\nreplace: sn\nsn: Safer\n-\nreplace: title\ntitle: Engineer\n`);
    expect(d.cli(['run-step', 'domino-people', 'delta-import', '--json']).report?.status).toBe('success');
    const before = counts();
    const p = previewOf('ben.safe@notes.acme.test');
    expect(counts()).toEqual(before);
    expect(p.matchedBy).toBe('mail');
    expect(p.objects).toEqual([expect.objectContaining({ agent: 'domino-people', dn: `cn=Ben Safe,${d.dominoPeopleOu}` })]);
    const decisions = p.trace.map((t) => `${t.agent} ${t.rule}: ${t.decision}`);
    expect(decisions).toContainEqual(expect.stringMatching(/^domino-people scope: in scope/));
    expect(decisions).toContainEqual(expect.stringMatching(/^domino-people join: already linked to DominoUser .* \(projection in run 1\)/));
    expect(decisions).toContainEqual('domino-people import-flow: sn from sn: "Safe" -> "Safer"');
    expect(decisions).toContainEqual(expect.stringMatching(/^domino-people import-flow: mail from .*: unchanged \("ben.safe@notes.acme.test"\)/));
    expect(decisions).toContainEqual('ad-contacts export-flow: sn: "Safe" -> "Safer"');
    expect(decisions).toContainEqual('ad-contacts export-flow: title: (none) -> "Engineer"');
    expect(p.changes).toContainEqual(
      expect.objectContaining({ operation: 'mv-update', before: { sn: ['Safe'], title: [] }, after: { sn: ['Safer'], title: ['Engineer'] } }),
    );
    expect(p.exports.staged).toEqual([
      expect.objectContaining({
        agent: 'ad-contacts',
        operation: 'update',
        dn: `CN=Ben Safe,${d.adContactsOu}`,
        changes: expect.objectContaining({ sn: { before: ['Safe'], after: ['Safer'] } }),
      }),
    ]);
    const text = d.cli(['preview', 'ben.safe@notes.acme.test']).stdout;
    expect(text).toMatch(/nothing is written/);
    expect(text).toMatch(/stage export: modify CN=Ben Safe,.* \(ad-contacts\): .*sn: \["Safe"\] -> \["Safer"\]/);

    // The sync then does exactly what the preview said.
    expect(d.cli(['run-step', 'domino-people', 'delta-sync', '--json']).report?.status).toBe('success');
    const staged = JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: unknown[] };
    expect(staged.exports).toEqual(p.exports.staged.map((e) => expect.objectContaining({ operation: e.operation, dn: e.dn, changes: e.changes })));
  });

  it('a new person by DN: projection and the contact it would provision; a contact by DN is previewed through its person', () => {
    d.addDominoPerson({ given: 'Cara', sn: 'New', mail: 'cara.new@notes.acme.test' });
    d.cli(['run-step', 'domino-people', 'delta-import', '--json']);
    const p = previewOf(`cn=Cara New,${d.dominoPeopleOu}`);
    expect(p.matchedBy).toBe('dn');
    const decisions = p.trace.map((t) => `${t.agent} ${t.rule}: ${t.decision}`);
    expect(decisions).toContainEqual('domino-people join: no join rule found a match');
    expect(decisions).toContainEqual('domino-people projection: projected as a new DominoUser');
    expect(decisions).toContainEqual(expect.stringMatching(/^ad-contacts address-conflict: no other object holds cara.new@notes.acme.test/));
    expect(decisions).toContainEqual(
      expect.stringMatching(new RegExp(`^ad-contacts provisioning: a new object CN=Cara New,${d.adContactsOu} with .*mail="cara.new@notes.acme.test"`)),
    );
    expect(p.exports.staged).toEqual([expect.objectContaining({ operation: 'add', dn: `CN=Cara New,${d.adContactsOu}`, agent: 'ad-contacts' })]);

    const contact = previewOf(`CN=Ada Safe,${d.adContactsOu}`);
    expect(contact.objects).toEqual([expect.objectContaining({ agent: 'domino-people', dn: `cn=Ada Safe,${d.dominoPeopleOu}` })]);
    expect(contact.exports.staged).toEqual([]);
    expect(contact.trace.filter((t) => t.rule === 'export-flow').every((t) => t.decision.includes('unchanged'))).toBe(true);
  });

  it('an unknown object is named, with the not-found exit code 66', () => {
    const r = d.cli(['preview', 'nobody@nowhere.test']);
    expect(r.code).toBe(66);
    expect(r.stderr).toMatch(/no object matches "nobody@nowhere.test" as a mail/);
  });
});
