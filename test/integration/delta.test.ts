/**
 * Delta cycles against the real directories: every change kind made in Domino (slapd) or AD (Samba)
 * reaches the other directory in one delta cycle, with each pair of delta strategies. Domino's
 * timestamp strategy cannot see deletions: its delta import's deletion check (the anchors in view)
 * finds them.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, shippedSteps, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const variants = [
  { name: 'timestamp (Domino) and DirSync (AD)', dominoDelta: 'timestamp', adDelta: 'dirsync' },
  { name: 'accesslog (OpenLDAP) and USN (AD)', dominoDelta: 'accesslog', adDelta: 'usn' },
] as const;

type Cli = ReturnType<Deployment['cli']>;

function expectStatus(r: Cli, status: string): RunReportJson {
  const report = r.report;
  const problems = report?.steps.flatMap((s) => s.problems) ?? [];
  const stopped = report?.steps.filter((s) => s.message).map((s) => `${s.agent} ${s.type}: ${s.message}`) ?? [];
  if (status === 'success') expect({ status: report?.status, problems, stopped, stderr: r.stderr }).toEqual({ status, problems: [], stopped: [], stderr: '' });
  else expect({ status: report?.status, stopped, stderr: r.stderr }).toEqual({ status, stopped: [], stderr: '' });
  return report!;
}

function exportTotals(report: RunReportJson): number {
  return report.steps.filter((s) => s.type === 'export').reduce((n, s) => n + s.stats.adds! + s.stats.updates! + s.stats.renames! + s.stats.deletes!, 0);
}

describe.each(variants)('delta cycles: $name', (variant) => {
  let slapd: Slapd;
  let d: Deployment;

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({ dominoDelta: variant.dominoDelta, adDelta: variant.adDelta, dominoPeopleOnly: true }));
  });

  afterAll(async () => {
    await slapd?.stop();
  });

  const cycle = (): Cli => d.cli(['run', 'delta-cycle', '--json']);

  async function adContact(mail: string): Promise<Record<string, unknown> | undefined> {
    return (await d.adSearch(d.adContactsOu, '(objectClass=contact)')).find((c) => String(c.mail).toLowerCase() === mail);
  }

  async function dominoContact(mail: string): Promise<Record<string, unknown> | undefined> {
    const c = new Client({ url: slapd.url });
    await c.bind(slapd.rootDn, slapd.password);
    try {
      const { searchEntries } = await c.search(d.dominoContactsOu, { scope: 'sub', filter: '(objectClass=dominoPerson)' });
      return searchEntries.find((e) => String(e.mailaddress).toLowerCase() === mail);
    } finally {
      await c.unbind();
    }
  }

  function store<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(join(d.dir, 'metaverse.db'));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  function profile(name: string, steps: [string, string][]): string {
    const file = join(d.dir, `${name}.yaml`);
    writeFileSync(file, `steps:\n${steps.map(([agent, type]) => `  - { agent: ${agent}, type: ${type} }`).join('\n')}\n`);
    return file;
  }

  it('first setup: the initial profile runs the full imports and records watermarks', async () => {
    d.addDominoPerson({ given: 'Alice', sn: 'Archer', mail: 'alice.archer@notes.acme.test' });
    d.addDominoPerson({ given: 'Bob', sn: 'Baker', mail: 'bob.baker@notes.acme.test' });
    await d.addAdMailbox({ given: 'Paula', sn: 'Perez', mail: 'paula.perez@exchange.acme.test' });
    await d.addAdMailbox({ given: 'Quinn', sn: 'Quist', mail: 'quinn.quist@exchange.acme.test' });
    expectStatus(d.cli(['run', 'initial', '--json']), 'success');
    expect(await adContact('alice.archer@notes.acme.test')).toBeDefined();
    expect(await dominoContact('paula.perez@exchange.acme.test')).toBeDefined();
    const marks = store((db) => db.prepare('SELECT agent, value FROM watermark ORDER BY agent').all() as { agent: string; value: string }[]);
    // Every agent of the shipped profiles, each with its side's strategy.
    const agents = [...new Set(shippedSteps('initial').map((s) => s.split(' ')[0]!))].sort();
    expect(marks.map((m) => [m.agent, JSON.parse(m.value).strategy])).toEqual(
      agents.map((a) => [a, a.startsWith('ad-') ? variant.adDelta : variant.dominoDelta]),
    );
  });

  it('a delta cycle with nothing changed writes nothing', () => {
    const report = expectStatus(cycle(), 'success');
    expect(exportTotals(report)).toBe(0);
    // The shipped profile's steps and no others: nothing was left for the engine to export afterwards.
    expect(report.steps.map((s) => `${s.agent} ${s.type}`)).toEqual(shippedSteps('delta-cycle'));
    const changes = store((db) => db.prepare('SELECT COUNT(*) FROM change_log WHERE run_id = ?').pluck().get(report.runId));
    expect(changes).toBe(0);
  });

  it.runIf(variant.dominoDelta === 'accesslog')(
    "accesslog: the watermark moves past writes outside the agent's view, so a quiet delta does not read them again",
    () => {
      // The first setup wrote the Domino contacts into the same directory, after domino-people's full import.
      const newest = slapd
        .search('cn=accesslog', '(objectClass=auditWriteObject)', ['reqStart'])
        .split('\n')
        .filter((l) => l.startsWith('reqStart: '))
        .map((l) => l.slice('reqStart: '.length))
        .sort()
        .at(-1);
      expect(newest).toBeDefined();
      expectStatus(cycle(), 'success');
      expect(JSON.parse(d.watermark('domino-people')!)).toEqual({ strategy: 'accesslog', after: newest });
    },
  );

  it('add: a new person and a new mailbox get their contacts in one cycle', async () => {
    d.addDominoPerson({ given: 'Carl', sn: 'Chen', mail: 'carl.chen@notes.acme.test' });
    await d.addAdMailbox({ given: 'Rita', sn: 'Rossi', mail: 'rita.rossi@exchange.acme.test' });
    const report = expectStatus(cycle(), 'success');
    const carl = await adContact('carl.chen@notes.acme.test');
    expect(carl?.dn).toBe(`CN=Carl Chen,${d.adContactsOu}`);
    expect(carl?.targetAddress).toBe('SMTP:carl.chen@notes.acme.test');
    expect((await dominoContact('rita.rossi@exchange.acme.test'))?.sn).toBe('Rossi');
    // The confirming imports found what the exports wrote: nothing to report, nothing left to confirm.
    const adds = Object.fromEntries(report.steps.filter((s) => s.type === 'export').map((s) => [s.agent, s.stats.adds]));
    expect(adds).toEqual({
      'ad-contacts': 1,
      'domino-contacts': 1,
      'ad-group-contacts': 0,
      'ad-mailin-contacts': 0,
      'domino-group-contacts': 0,
      'ad-mailboxes': 0,
    });
    expect(store((db) => db.prepare('SELECT COUNT(*) FROM export_expectation').pluck().get())).toBe(0);
  });

  it('modify: surname, display name and mail reach the other directory in one cycle', async () => {
    slapd.modify(
      `dn: cn=Alice Archer,${d.dominoPeopleOu}\nchangetype: modify\nreplace: sn\nsn: Archer-Smith\n-\nreplace: internetaddress\ninternetaddress: alice.smith@notes.acme.test\n`,
    );
    await d.adModify(`CN=Paula Perez,${d.adPeopleOu}`, {
      sn: 'Perez-Lopez',
      displayName: 'Paula P. Lopez',
      mail: 'paula.lopez@exchange.acme.test',
      proxyAddresses: 'SMTP:paula.lopez@exchange.acme.test',
    });
    expectStatus(cycle(), 'success');
    const alice = await adContact('alice.smith@notes.acme.test');
    expect(alice?.sn).toBe('Archer-Smith');
    expect(alice?.targetAddress).toBe('SMTP:alice.smith@notes.acme.test');
    // The new address replaces the old; the contact's X500 (its legacyExchangeDN) stays, unchanged by the rename.
    expect(alice?.legacyExchangeDN).toMatch(/^\/o=Acme\/.*\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(alice?.proxyAddresses).toEqual(['SMTP:alice.smith@notes.acme.test', `X500:${String(alice?.legacyExchangeDN)}`]);
    expect(await adContact('alice.archer@notes.acme.test')).toBeUndefined();
    const paula = await dominoContact('paula.lopez@exchange.acme.test');
    expect(paula?.sn).toBe('Perez-Lopez');
    const displayName = store(
      (db) => db.prepare("SELECT attributes FROM mv_object WHERE object_type = 'ExchangeUser' AND attributes LIKE '%paula.lopez%'").pluck().get() as string,
    );
    expect(JSON.parse(displayName).displayName).toEqual(['Paula P. Lopez']);
  });

  it('rename: a new RDN on either side renames the contact', async () => {
    slapd.modify(`dn: cn=Bob Baker,${d.dominoPeopleOu}\nchangetype: modrdn\nnewrdn: cn=Robert Baker\ndeleteoldrdn: 1\n`);
    await d.adMove(`CN=Quinn Quist,${d.adPeopleOu}`, `CN=Quinn Quist-Jones,${d.adPeopleOu}`);
    expectStatus(cycle(), 'success');
    const bob = await adContact('bob.baker@notes.acme.test');
    expect(bob?.dn).toBe(`CN=Robert Baker,${d.adContactsOu}`);
    expect(bob?.displayName).toBe('Robert Baker');
    expect((await dominoContact('quinn.quist@exchange.acme.test'))?.dn).toBe(`cn=Quinn Quist-Jones,${d.dominoContactsOu}`);
  });

  it("move out of the agent's scope removes the contact; moving back brings it back", async () => {
    slapd.modify(`dn: cn=Carl Chen,${d.dominoPeopleOu}\nchangetype: modrdn\nnewrdn: cn=Carl Chen\ndeleteoldrdn: 1\nnewsuperior: ${d.dominoAwayOu}\n`);
    await d.adMove(`CN=Rita Rossi,${d.adPeopleOu}`, `CN=Rita Rossi,${d.adAwayOu}`);
    expectStatus(cycle(), 'success');
    expect(await adContact('carl.chen@notes.acme.test')).toBeUndefined();
    expect(await dominoContact('rita.rossi@exchange.acme.test')).toBeUndefined();

    slapd.modify(`dn: cn=Carl Chen,${d.dominoAwayOu}\nchangetype: modrdn\nnewrdn: cn=Carl Chen\ndeleteoldrdn: 1\nnewsuperior: ${d.dominoPeopleOu}\n`);
    await d.adMove(`CN=Rita Rossi,${d.adAwayOu}`, `CN=Rita Rossi,${d.adPeopleOu}`);
    expectStatus(cycle(), 'success');
    expect(await adContact('carl.chen@notes.acme.test')).toBeDefined();
    expect(await dominoContact('rita.rossi@exchange.acme.test')).toBeDefined();
  });

  it('delete: a deleted mailbox and a deleted Domino person lose their contacts in one delta cycle', async () => {
    await d.adDelete(`CN=Quinn Quist-Jones,${d.adPeopleOu}`);
    slapd.modify(`dn: cn=Alice Archer,${d.dominoPeopleOu}\nchangetype: delete\n`);
    const report = expectStatus(cycle(), 'success');
    expect(await dominoContact('quinn.quist@exchange.acme.test')).toBeUndefined();
    expect(await adContact('alice.smith@notes.acme.test')).toBeUndefined();
    expect(await adContact('bob.baker@notes.acme.test')).toBeDefined();
    const people = report.steps.find((s) => s.agent === 'domino-people')!;
    if (variant.dominoDelta === 'timestamp') {
      // The modification times cannot show a deletion: the check of the anchors in view found it.
      expect({ read: people.stats.deletionCheckRead, gone: people.stats.deletionCheckGone }).toEqual({ read: 2, gone: 1 });
    } else {
      // The access log shows it: no check is made.
      expect({ read: people.stats.deletionCheckRead, gone: people.stats.deletionCheckGone }).toEqual({ read: 0, gone: 0 });
    }
    expect(JSON.parse(d.cli(['plan', '--json']).stdout).exports).toEqual([]);
    // The full cycle finds nothing left to do, and the deltas go on from its watermarks.
    expect(exportTotals(expectStatus(d.cli(['run', 'full-cycle', '--json']), 'success'))).toBe(0);
    expectStatus(cycle(), 'success');
  });

  it('a change made while a cycle runs is picked up by the next one', async () => {
    const running = d.cliAsync(['run', 'delta-cycle', '--json']);
    await new Promise((r) => setTimeout(r, 150));
    d.addDominoPerson({ given: 'Dora', sn: 'Diaz', mail: 'dora.diaz@notes.acme.test' });
    await d.adModify(`CN=Paula Perez,${d.adPeopleOu}`, { sn: 'Perez-Moreno' });
    const first = await running;
    expect(first.code).toBe(0);
    expectStatus(cycle(), 'success');
    expect(await adContact('dora.diaz@notes.acme.test')).toBeDefined();
    expect((await dominoContact('paula.lopez@exchange.acme.test'))?.sn).toBe('Perez-Moreno');
  });

  it('a confirming import reports an exported value that did not stick, and the next cycle writes it again', async () => {
    slapd.modify(`dn: cn=Robert Baker,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Engineer\n`);
    expectStatus(
      d.cli([
        'run',
        profile('export-only', [
          ['domino-people', 'delta-import-sync'],
          ['ad-contacts', 'export'],
        ]),
        '--json',
      ]),
      'success',
    );
    // Between the export and its confirming import the value is overwritten: it did not stick.
    await d.adModify(`CN=Robert Baker,${d.adContactsOu}`, { title: 'Tampered' });
    // The confirming import as MIM's two separate steps: stage only, then the delta sync.
    const confirm = d.cli([
      'run',
      profile('confirm', [
        ['ad-contacts', 'delta-import'],
        ['ad-contacts', 'delta-sync'],
      ]),
      '--json',
    ]);
    const report = expectStatus(confirm, 'completed-warnings');
    expect(confirm.code).toBe(1);
    expect(report.steps[1]!.stats.exportsStaged).toBe(1); // the value that did not stick, staged again
    expect(report.steps[0]!.problems).toContainEqual(
      expect.objectContaining({
        code: 'exported-change-not-reimported',
        attribute: 'title',
        object: `CN=Robert Baker,${d.adContactsOu}`,
        message: expect.stringContaining('"Engineer"'),
      }),
    );
    expectStatus(cycle(), 'success');
    expect((await adContact('bob.baker@notes.acme.test'))?.title).toBe('Engineer');
  });

  it('a watermark the directory no longer accepts gives a clear warning and a full import, never a silent gap', async () => {
    const tamper: Record<string, (v: Record<string, unknown>) => Record<string, unknown>> = {
      timestamp: () => ({ strategy: 'accesslog', after: null }),
      accesslog: (v) => ({ ...v, after: '20000101000000.000001Z' }),
      dirsync: (v) => ({ ...v, cookie: Buffer.from('not a cookie the DC issued').toString('base64') }),
      usn: (v) => ({ ...v, invocationId: '00000000-0000-0000-0000-000000000000' }),
    };
    store((db) => {
      for (const [agent, strategy] of [
        ['domino-people', variant.dominoDelta],
        ['ad-mailboxes', variant.adDelta],
      ] as const) {
        const value = JSON.parse(db.prepare('SELECT value FROM watermark WHERE agent = ?').pluck().get(agent) as string);
        db.prepare('UPDATE watermark SET value = ? WHERE agent = ?').run(JSON.stringify(tamper[strategy]!(value)), agent);
      }
    });
    d.addDominoPerson({ given: 'Emil', sn: 'Eriksen', mail: 'emil.eriksen@notes.acme.test' });
    const r = cycle();
    const report = expectStatus(r, 'completed-warnings');
    const warnings = report.steps.flatMap((s) => s.problems.map((p) => ({ agent: s.agent, code: p.code, message: p.message })));
    const expected = {
      timestamp: /written by the "accesslog" strategy/,
      accesslog: /no longer holds the entry/,
      dirsync: /refused the DirSync cookie/,
      usn: /invocationID/,
    };
    expect(warnings).toContainEqual({ agent: 'domino-people', code: 'delta-unavailable', message: expect.stringMatching(expected[variant.dominoDelta]) });
    expect(warnings).toContainEqual({ agent: 'ad-mailboxes', code: 'delta-unavailable', message: expect.stringMatching(expected[variant.adDelta]) });
    expect(await adContact('emil.eriksen@notes.acme.test')).toBeDefined();
    // The full import wrote a fresh watermark: the next cycle is a clean delta again.
    expectStatus(cycle(), 'success');
  });

  it('a step that fails leaves its watermark where it was (run last: it stops the Domino server)', async () => {
    const before = store((db) => db.prepare("SELECT value, step_id FROM watermark WHERE agent = 'domino-people'").get());
    d.addDominoPerson({ given: 'Finn', sn: 'Falk', mail: 'finn.falk@notes.acme.test' });
    await slapd.stop();
    const r = cycle();
    expect(r.report?.status).toBe('stopped-server-down');
    expect(r.code).toBe(3);
    expect(store((db) => db.prepare("SELECT value, step_id FROM watermark WHERE agent = 'domino-people'").get())).toEqual(before);
  });
});
