/**
 * The scheduled cycle alone keeps the address book right, with no full cycle in between, for each pair
 * of delta strategies: mass deletions of Domino people meet the guards on the delta cycle (the
 * deletion threshold for 600 of 5,000, the shrunk-import guard for 600 of 610 where the deletions are
 * inferred from a deletion check), and --allow-deletes applies exactly those; a person deleted while
 * a cycle runs is caught by the next; an address conflict released from either side gives its
 * contact in the same cycle, also when a profile exports before the releasing sync (the engine adds
 * the exports). After every cycle, plan shows nothing pending but what a guard holds back.
 */
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeDnValue } from '../../src/util/dn.js';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const variants = [
  { name: 'timestamp (Domino) and DirSync (AD)', dominoDelta: 'timestamp', adDelta: 'dirsync' },
  { name: 'accesslog (OpenLDAP) and USN (AD)', dominoDelta: 'accesslog', adDelta: 'usn' },
] as const;

type Cli = ReturnType<Deployment['cli']>;

/** Many Domino people in one ldapadd: Bulk0 … Bulk{n-1}. */
function addBulkPeople(slapd: Slapd, d: Deployment, n: number): void {
  const records = Array.from({ length: n }, (_, i) =>
    [
      `dn: cn=Bulk${i} Person,${d.dominoPeopleOu}`,
      'objectClass: dominoPerson',
      `cn: Bulk${i} Person`,
      `givenName: Bulk${i}`,
      'sn: Person',
      `dominoUNID: ${String(i).padStart(32, 'B')}`,
      'mailsystem: 1',
      `internetaddress: bulk${i}@notes.acme.test`,
      '',
    ].join('\n'),
  );
  slapd.add(records.join('\n'));
}

function deleteBulkPeople(slapd: Slapd, d: Deployment, from: number, to: number): void {
  const records: string[] = [];
  for (let i = from; i < to; i++) records.push(`dn: cn=Bulk${i} Person,${d.dominoPeopleOu}\nchangetype: delete\n`);
  slapd.modify(records.join('\n'));
}

/** The AD contacts, read page by page (Samba, like AD, stops unpaged searches at 1,000 entries). */
async function adContactCount(d: Deployment, samba: { url: string; bindDn: string; password: string }): Promise<number> {
  const c = new Client({ url: samba.url });
  await c.bind(samba.bindDn, samba.password);
  let n = 0;
  try {
    for await (const page of c.searchPaginated(d.adContactsOu, { scope: 'sub', filter: '(objectClass=contact)', attributes: ['cn'], paged: { pageSize: 500 } }))
      n += page.searchEntries.length;
  } finally {
    await c.unbind();
  }
  return n;
}

function pendingExports(d: Deployment): { agent: string; operation: string; dn: string }[] {
  return (JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: { agent: string; operation: string; dn: string }[] }).exports;
}

function expectStatus(r: Cli, status: string, code: number): RunReportJson {
  const stopped = r.report?.steps.filter((s) => s.message).map((s) => `${s.agent} ${s.type}: ${s.message}`) ?? [];
  expect({ status: r.report?.status, code: r.code, stderr: r.stderr, ...(status.startsWith('stopped-') ? {} : { stopped }) }).toEqual({
    status,
    code,
    stderr: '',
    ...(status.startsWith('stopped-') ? {} : { stopped: [] }),
  });
  return r.report!;
}

const stepOf = (report: RunReportJson, agent: string, type: string): RunReportJson['steps'][number] | undefined =>
  report.steps.find((s) => s.agent === agent && s.type === type);

describe.each(variants)('mass deletion on the delta cycle, 600 of 5,000: $name', (variant) => {
  let slapd: Slapd;
  let d: Deployment;
  const provided = inject('samba');
  if (!provided) throw new Error('the Samba AD DC did not start (integration tests need it)');
  const samba = provided;
  const cycle = (...extra: string[]): Cli => d.cli(['run', 'delta-cycle', '--json', ...extra]);

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({ dominoDelta: variant.dominoDelta, adDelta: variant.adDelta, dominoPeopleOnly: true }));
    addBulkPeople(slapd, d, 5000);
    const initial = await d.cliAsync(['run', 'initial', '--json']);
    expect({ code: initial.code, stderr: initial.stderr }).toEqual({ code: 0, stderr: '' });
  }, 600_000);
  afterAll(async () => slapd?.stop());

  it('600 deleted by mistake and held by the threshold, then restored: the same 5,000 contacts (objectGUIDs kept), nothing pending', async () => {
    const guids = async (): Promise<string[]> => {
      const c = new Client({ url: samba.url });
      await c.bind(samba.bindDn, samba.password);
      const out: string[] = [];
      try {
        for await (const page of c.searchPaginated(d.adContactsOu, {
          scope: 'sub',
          filter: '(objectClass=contact)',
          attributes: ['objectGUID'],
          explicitBufferAttributes: ['objectGUID'],
          paged: { pageSize: 500 },
        })) {
          for (const e of page.searchEntries) out.push((e.objectGUID as Buffer).toString('hex'));
        }
      } finally {
        await c.unbind();
      }
      return out.sort();
    };
    const before = await guids();
    expect(before).toHaveLength(5000);
    deleteBulkPeople(slapd, d, 0, 600);
    expectStatus(cycle(), 'stopped-deletion-threshold-exceeded', 5);
    // Restored from the Domino side: the same documents, the same UNIDs.
    addBulkPeople(slapd, d, 600);
    const restored = expectStatus(cycle(), 'success', 0);
    expect(restored.steps.filter((s) => s.type === 'export').reduce((n, s) => n + (s.stats.adds ?? 0) + (s.stats.deletes ?? 0), 0)).toBe(0);
    expect(await guids()).toEqual(before);
    expect(pendingExports(d)).toEqual([]);
  });

  it('stops before the first delete with stopped-deletion-threshold-exceeded; --allow-deletes 600 applies exactly 600', async () => {
    expect(await adContactCount(d, samba)).toBe(5000);
    deleteBulkPeople(slapd, d, 0, 600);
    const held = expectStatus(cycle(), 'stopped-deletion-threshold-exceeded', 5);
    expect(stepOf(held, 'ad-contacts', 'export')?.message).toMatch(/^600 deletions are pending for ad-contacts, more than 500 \(count\).*--allow-deletes 600/);
    if (variant.dominoDelta === 'timestamp') expect(stepOf(held, 'domino-people', 'delta-import-sync')?.stats.deletionCheckGone).toBe(600);
    expect(await adContactCount(d, samba)).toBe(5000);
    const plan = pendingExports(d);
    expect({ n: plan.length, deletes: plan.filter((e) => e.agent === 'ad-contacts' && e.operation === 'delete').length }).toEqual({ n: 600, deletes: 600 });

    const allowed = expectStatus(cycle('--allow-deletes', '600'), 'success', 0);
    expect(stepOf(allowed, 'ad-contacts', 'export')?.stats.deletes).toBe(600);
    expect(await adContactCount(d, samba)).toBe(4400);
    expect(pendingExports(d)).toEqual([]);
  });

  it('a person deleted while a cycle runs is caught by the next cycle', async () => {
    const running = d.cliAsync(['run', 'delta-cycle', '--json']);
    await new Promise((r) => setTimeout(r, 300));
    deleteBulkPeople(slapd, d, 600, 601);
    expect((await running).code).toBe(0);
    expectStatus(cycle(), 'success', 0);
    expect((await d.adSearch(d.adContactsOu, '(mail=bulk600@notes.acme.test)')).length).toBe(0);
    expect((await d.adSearch(d.adContactsOu, '(mail=bulk601@notes.acme.test)')).length).toBe(1);
    expect(await adContactCount(d, samba)).toBe(4399);
    expect(pendingExports(d)).toEqual([]);
  });
});

describe.each(variants)('address conflicts and 600 of 610 on the delta cycle: $name', (variant) => {
  let slapd: Slapd;
  let d: Deployment;
  const cycle = (...extra: string[]): Cli => d.cli(['run', 'delta-cycle', '--json', ...extra]);
  const migrating = ['Mia Move', 'Noah Shift', 'Olga Late'].map((cn) => ({
    cn,
    given: cn.split(' ')[0]!,
    sn: cn.split(' ')[1]!,
    mail: `${cn.toLowerCase().replace(' ', '.')}@acme.test`,
  }));

  async function dominoContactFor(mail: string): Promise<boolean> {
    const c = new Client({ url: slapd.url });
    await c.bind(slapd.rootDn, slapd.password);
    try {
      return (await c.search(d.dominoContactsOu, { scope: 'sub', filter: `(mailaddress=${mail})`, attributes: ['cn'] })).searchEntries.length > 0;
    } finally {
      await c.unbind();
    }
  }
  const adContactFor = async (mail: string): Promise<boolean> => (await d.adSearch(d.adContactsOu, `(mail=${mail})`, ['cn'])).length > 0;

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({ dominoDelta: variant.dominoDelta, adDelta: variant.adDelta, dominoPeopleOnly: true }));
    addBulkPeople(slapd, d, 608);
    for (const p of migrating) {
      d.addDominoPerson({ given: p.given, sn: p.sn, mail: p.mail });
      await d.addAdMailbox({ given: p.given, sn: p.sn, mail: p.mail });
    }
    const initial = await d.cliAsync(['run', 'initial', '--json']);
    expect(initial.code).toBe(2); // completed-errors: the three address conflicts, reported once
    for (const p of migrating) expect({ ad: await adContactFor(p.mail), domino: await dominoContactFor(p.mail) }).toEqual({ ad: false, domino: false });
    expect(pendingExports(d)).toEqual([]);
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('a conflict released by the mailbox side gives the Domino person its AD contact in the same cycle', async () => {
    const mia = migrating[0]!;
    await d.adDelete(`CN=${escapeDnValue(mia.cn)},${d.adPeopleOu}`);
    expectStatus(cycle(), 'success', 0);
    expect(await adContactFor(mia.mail)).toBe(true);
    expect(pendingExports(d)).toEqual([]);
  });

  it('a conflict released by the Domino side gives the mailbox its Domino contact in the same cycle', async () => {
    const noah = migrating[1]!;
    slapd.modify(`dn: cn=${escapeDnValue(noah.cn)},${d.dominoPeopleOu}\nchangetype: delete\n`);
    expectStatus(cycle(), 'success', 0);
    expect(await dominoContactFor(noah.mail)).toBe(true);
    expect(pendingExports(d)).toEqual([]);
  });

  it('a profile that exports before the releasing sync (the MIIS order) still exports the contact before the run ends', async () => {
    const olga = migrating[2]!;
    const miisOrder = join(d.dir, 'miis-order.yaml');
    writeFileSync(
      miisOrder,
      [
        'steps:',
        ...[
          ['domino-people', 'delta-import-sync'],
          ['ad-contacts', 'export'],
          ['ad-contacts', 'delta-import-sync'],
          ['ad-mailboxes', 'delta-import-sync'],
          ['domino-contacts', 'export'],
          ['domino-contacts', 'delta-import-sync'],
        ].map(([a, t]) => `  - { agent: ${a}, type: ${t} }`),
        '',
      ].join('\n'),
    );
    await d.adDelete(`CN=${escapeDnValue(olga.cn)},${d.adPeopleOu}`);
    const report = expectStatus(d.cli(['run', miisOrder, '--json']), 'success', 0);
    const added = report.steps.slice(6);
    expect(added.map((s) => [s.agent, s.type, (s as { added?: string }).added])).toEqual([
      ['ad-contacts', 'export', 'convergence'],
      ['ad-contacts', 'delta-import-sync', 'convergence'],
    ]);
    expect(added[0]!.stats.adds).toBe(1);
    expect(await adContactFor(olga.mail)).toBe(true);
    expect(pendingExports(d)).toEqual([]);
  });

  it('a Domino document recreated with a new UNID (same name, same address) has one AD contact after one cycle', async () => {
    const dn = `cn=Bulk607 Person,${d.dominoPeopleOu}`;
    slapd.modify(`dn: ${dn}\nchangetype: delete\n`);
    slapd.add(
      [
        `dn: ${dn}`,
        'objectClass: dominoPerson',
        'cn: Bulk607 Person',
        'givenName: Bulk607',
        'sn: Person',
        `dominoUNID: ${'C'.repeat(32)}`,
        'mailsystem: 1',
        'internetaddress: bulk607@notes.acme.test',
        '',
      ].join('\n'),
    );
    const report = expectStatus(cycle(), 'success', 0);
    expect(report.steps.flatMap((s) => s.problems)).toEqual([]);
    const contacts = await d.adSearch(d.adContactsOu, '(mail=bulk607@notes.acme.test)', ['cn']);
    expect(contacts).toHaveLength(1);
    expect(pendingExports(d)).toEqual([]);
  });

  it('600 of 610 Domino people deleted: refused as deletions (or held by the threshold), then --allow-deletes 600 applies exactly 600', async () => {
    const before = d.watermark('domino-people');
    const contactsBefore = (await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length;
    expect(contactsBefore).toBe(610); // 608 people, Mia and Olga
    deleteBulkPeople(slapd, d, 0, 600);
    const r = cycle();
    if (variant.dominoDelta === 'timestamp') {
      // Inferred from absence (the deletion check): a directory that lost 98% of its people is a fault until the operator says otherwise.
      const report = expectStatus(r, 'stopped-import-shrunk', 6);
      expect(stepOf(report, 'domino-people', 'delta-import-sync')?.message).toMatch(
        /^the deletion check of domino-people returned 10 objects and would remove 600 of the 610 .*--allow-deletes 600/,
      );
      expect(d.watermark('domino-people')).toBe(before);
      expect(pendingExports(d)).toEqual([]);
    } else {
      // The access log reports each delete: the export's deletion threshold holds them.
      expectStatus(r, 'stopped-deletion-threshold-exceeded', 5);
      expect(pendingExports(d).filter((e) => e.operation === 'delete')).toHaveLength(600);
    }
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length).toBe(contactsBefore);

    const allowed = expectStatus(cycle('--allow-deletes', '600'), 'success', 0);
    expect(stepOf(allowed, 'ad-contacts', 'export')?.stats.deletes).toBe(600);
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length).toBe(contactsBefore - 600);
    expect(pendingExports(d)).toEqual([]);
  });
});
