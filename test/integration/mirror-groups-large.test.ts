/**
 * A 5,000-member group each way, against slapd and Samba: a Domino group of 5,000 people becomes an AD
 * distribution group of their 5,000 contacts, and an AD group of 5,000 members (read back range by
 * range, 400 at a time here) becomes a Domino Group document of 5,000 people. Both round-trip exactly;
 * a change of ten members writes ten member values on each side, not 5,000.
 */
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';
import { normalizeDn } from '../../src/util/dn.js';

const SIZE = 5000;
/** People beyond the groups' 5,000: the members a change adds. */
const SPARE = 5;

type Cli = ReturnType<Deployment['cli']>;

function clean(r: Cli): RunReportJson {
  const problems = r.report?.steps.flatMap((s) => s.problems.map((p) => `${p.code}: ${p.object}: ${p.message}`)) ?? [];
  expect({ code: r.code, status: r.report?.status, stderr: r.stderr, problems }).toEqual({ code: 0, status: 'success', stderr: '', problems: [] });
  return r.report!;
}
const exported = (report: RunReportJson, agent: string): Record<string, number> => {
  const s = report.steps.filter((x) => x.agent === agent && x.type === 'export');
  const sum = (k: string): number => s.reduce((n, x) => n + (x.stats[k] ?? 0), 0);
  return { adds: sum('adds'), updates: sum('updates'), valuesAdded: sum('valuesAdded'), valuesRemoved: sum('valuesRemoved') };
};
const keys = (values: readonly string[]): string[] => values.map((v) => normalizeDn(v)).sort();

describe('mirrored groups of 5,000 members (slapd as Domino, Samba as AD)', () => {
  let slapd: Slapd;
  let d: Deployment;
  const people: string[] = [];
  const name = (i: number): string => `Member ${String(i).padStart(5, '0')}`;
  const contact = (i: number): string => `CN=${name(i)},${d.adContactsOu}`;
  const samba = inject('samba')!;
  const withAd = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: samba.url, timeout: 120_000 });
    await c.bind(samba.bindDn, samba.password);
    try {
      return await fn(c);
    } finally {
      await c.unbind();
    }
  };
  /** The AD group's members, read as the test's own client reads them (Samba does not cap an unranged read). */
  const adMembers = (dn: string): Promise<string[]> =>
    withAd(async (c) => {
      const e = (await c.search(dn, { scope: 'base', attributes: ['member'] })).searchEntries[0]!;
      return ([] as string[]).concat((e.member as string | string[] | undefined) ?? []);
    });
  const dominoMembers = (cn: string): string[] =>
    slapd
      .search(d.dominoGroupContactsOu, `(&(objectClass=dominoGroup)(cn=${cn}))`, ['member'])
      .split('\n')
      .filter((l) => l.startsWith('member: '))
      .map((l) => l.slice('member: '.length));
  const bigNotes = (): string => `cn=Big Notes,${d.dominoGroupsOu}`;
  const bigExchange = (): string => `CN=Big Exchange,${d.adGroupsOu}`;

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({ mirrorGroups: true }));
    const ldif: string[] = [];
    for (let i = 0; i < SIZE + SPARE; i++) {
      const dn = `cn=${name(i)},${d.dominoPeopleOu}`;
      people.push(dn);
      ldif.push(
        `dn: ${dn}\nobjectClass: dominoPerson\ncn: ${name(i)}\nsn: ${String(i).padStart(5, '0')}\ngivenName: Member\n` +
          `dominoUNID: ${randomBytes(16).toString('hex').toUpperCase()}\nmailsystem: 1\ninternetaddress: member${i}@notes.acme.test\n`,
      );
    }
    slapd.add(ldif.join('\n'));
    d.addDominoGroup({ cn: 'Big Notes', mail: 'big.notes@notes.acme.test', members: people.slice(0, SIZE) });
    const r = await d.cliAsync(['run', 'initial', '--json']);
    if (!r.stdout.trim().startsWith('{')) throw new Error(`the first setup printed no report (exit ${r.code}): ${r.stderr}`);
    clean({ ...r, report: JSON.parse(r.stdout) as RunReportJson });
    // An Exchange distribution list of the same 5,000, as their contacts: written in batches, as AD wants.
    await withAd(async (c) => {
      await c.add(bigExchange(), {
        objectClass: ['top', 'group'],
        sAMAccountName: `g${randomBytes(6).toString('hex')}`,
        groupType: '8',
        mail: 'big.exchange@exchange.acme.test',
        mailNickname: 'big.exchange',
        proxyAddresses: ['SMTP:big.exchange@exchange.acme.test'],
      });
      for (let i = 0; i < SIZE; i += 1000) {
        const values = Array.from({ length: Math.min(1000, SIZE - i) }, (_, k) => contact(i + k));
        await c.modify(bigExchange(), [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values }) })]);
      }
    });
  }, 1_200_000);
  afterAll(async () => slapd?.stop());

  it('a Domino group of 5,000 people is an AD group of exactly their 5,000 contacts', async () => {
    expect(keys(await adMembers(`CN=Big Notes,${d.adGroupContactsOu}`))).toEqual(keys(people.slice(0, SIZE).map((_, i) => contact(i))));
  });

  it('an AD group of 5,000, read range by range, is a Domino group of exactly those 5,000 people', () => {
    const report = clean(d.cli(['run', 'delta-cycle', '--json']));
    expect(exported(report, 'domino-group-contacts')).toMatchObject({ adds: 1 });
    expect(keys(dominoMembers('Big Exchange'))).toEqual(keys(people.slice(0, SIZE)));
  });

  it('ten members changed on each side write ten member values on the other, not 5,000', async () => {
    const out = people.slice(0, SPARE);
    const into = people.slice(SIZE, SIZE + SPARE);
    slapd.modify(
      `dn: ${bigNotes()}\nchangetype: modify\ndelete: member\n${out.map((m) => `member: ${m}`).join('\n')}\n-\nadd: member\n${into.map((m) => `member: ${m}`).join('\n')}\n`,
    );
    const gone = Array.from({ length: SPARE }, (_, k) => contact(SPARE + k));
    const come = Array.from({ length: SPARE }, (_, k) => contact(SIZE + k));
    await withAd((c) =>
      c.modify(bigExchange(), [
        new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: gone }) }),
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: come }) }),
      ]),
    );
    const report = clean(d.cli(['run', 'delta-cycle', '--json']));
    expect(exported(report, 'ad-group-contacts')).toEqual({ adds: 0, updates: 1, valuesAdded: SPARE, valuesRemoved: SPARE });
    expect(exported(report, 'domino-group-contacts')).toEqual({ adds: 0, updates: 1, valuesAdded: SPARE, valuesRemoved: SPARE });
    const notes = [...people.slice(SPARE, SIZE), ...into];
    expect(keys(await adMembers(`CN=Big Notes,${d.adGroupContactsOu}`))).toEqual(keys(notes.map((dn) => contact(people.indexOf(dn)))));
    const exchange = [...people.slice(0, SPARE), ...people.slice(2 * SPARE, SIZE), ...into];
    expect(keys(dominoMembers('Big Exchange'))).toEqual(keys(exchange));
  });

  it('and then nothing is left to write', () => {
    const report = clean(d.cli(['run', 'delta-cycle', '--json']));
    const writes = report.steps
      .filter((s) => s.type === 'export')
      .reduce((n, s) => n + (s.stats.adds ?? 0) + (s.stats.updates ?? 0) + (s.stats.deletes ?? 0), 0);
    expect(writes).toBe(0);
  });
});
