/**
 * Mirrored groups, against the real directories: a Domino group becomes a universal distribution
 * group in Samba AD whose members are the DNs of its members' contacts and mailboxes, and an Exchange
 * distribution group becomes a Domino Group document (slapd) whose members are the DNs of the Domino
 * people and contacts. Members resolve through the metaverse; what cannot be resolved is reported
 * once; membership is written as values added and removed; nested groups stay nested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';
import { allExports, dns, exported, ran, text } from './harness/group-reports.js';
import { normalizeDn } from '../../src/util/dn.js';
import { randomBytes } from 'node:crypto';
import { startServe } from './harness/serve.js';

const escapeHtml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Cli = ReturnType<Deployment['cli']>;

const problems = (report: RunReportJson): string[] => report.steps.flatMap((s) => s.problems.map((p) => `${p.code}: ${p.object} [${p.attribute ?? ''}]`));

describe('mirrored groups (slapd as Domino, Samba as AD)', () => {
  let slapd: Slapd;
  let d: Deployment;
  let first: RunReportJson;
  const people: Record<string, string> = {};
  const cycle = (): Cli => d.cli(['run', 'delta-cycle', '--json']);
  const adContact = (cn: string): string => `CN=${cn},${d.adContactsOu}`;
  const dominoContact = (cn: string): string => `cn=${cn},${d.dominoContactsOu}`;
  const adGroup = async (cn: string): Promise<Record<string, unknown> | undefined> =>
    (await d.adSearch(d.adGroupContactsOu, `(&(objectClass=group)(cn=${cn}))`, ['cn', 'member', 'groupType', 'mail', 'adminDescription']))[0];
  const dominoGroup = (cn: string): { dn: string; members: string[]; description: string[] } | undefined => {
    const entry = slapd.search(d.dominoGroupContactsOu, `(&(objectClass=dominoGroup)(cn=${cn}))`, ['member', 'description']).trim();
    if (!entry) return undefined;
    const lines = entry.split('\n');
    return {
      dn: lines[0]!.replace(/^dn: /, ''),
      members: lines.filter((l) => l.startsWith('member: ')).map((l) => l.slice('member: '.length)),
      description: lines.filter((l) => l.startsWith('description: ')).map((l) => l.slice('description: '.length)),
    };
  };

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({ mirrorGroups: true }));
    for (const [given, sn] of [
      ['Alice', 'Archer'],
      ['Bob', 'Baker'],
      ['Carol', 'Cooper'],
    ]) {
      people[given!] = d.addDominoPerson({ given: given!, sn: sn!, mail: `${given!.toLowerCase()}@notes.acme.test` });
    }
    const sales = d.addDominoGroup({
      cn: 'Notes Sales',
      mail: 'notes.sales@notes.acme.test',
      // A member no agent reads: reported once, never dropped in silence.
      members: [people.Alice!, people.Bob!, 'cn=Old Partner,o=Elsewhere'],
    });
    d.addDominoGroup({ cn: 'Notes All', mail: 'notes.all@notes.acme.test', members: [sales, people.Carol!] });
    const paula = await d.addAdMailbox({ given: 'Paula', sn: 'Perez', mail: 'paula@exchange.acme.test' });
    const quinn = await d.addAdMailbox({ given: 'Quinn', sn: 'Quill', mail: 'quinn@exchange.acme.test' });
    const xsales = await d.addAdGroup({ cn: 'Exchange Sales', mail: 'exchange.sales@exchange.acme.test', members: [paula, quinn] });
    await d.addAdGroup({ cn: 'Exchange All', mail: 'exchange.all@exchange.acme.test', members: [xsales] });
    const r = await d.cliAsync(['run', 'initial', '--json']);
    if (!r.stdout.trim().startsWith('{')) throw new Error(`the first setup printed no report (exit ${r.code}): ${r.stderr}`);
    first = ran({ ...r, report: JSON.parse(r.stdout) as RunReportJson }, 'completed-warnings');
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('first setup: a Domino group is an AD distribution group of its members’ contacts; nested groups stay nested', async () => {
    const sales = await adGroup('Notes Sales');
    expect(text(sales?.groupType)).toEqual(['8']);
    expect(text(sales?.adminDescription)).toEqual(['dirbridge:managed']);
    expect(dns(text(sales?.member))).toEqual(dns([adContact('Alice Archer'), adContact('Bob Baker')]));
    const all = await adGroup('Notes All');
    expect(dns(text(all?.member))).toEqual(dns([`CN=Notes Sales,${d.adGroupContactsOu}`, adContact('Carol Cooper')]));
  });

  it('first setup: an Exchange group is a Domino Group document of its members’ Domino contacts, nested too', () => {
    expect(dns(dominoGroup('Exchange Sales')!.members)).toEqual(dns([dominoContact('Paula Perez'), dominoContact('Quinn Quill')]));
    expect(dns(dominoGroup('Exchange All')!.members)).toEqual(dns([`cn=Exchange Sales,${d.dominoGroupContactsOu}`]));
    expect(dominoGroup('Exchange Sales')!.description).toEqual(['dirbridge:managed']);
  });

  it('a member dirbridge cannot resolve is reported once, by name, and kept for auditors', () => {
    expect(problems(first)).toEqual([`unresolved-member: ${`cn=Notes Sales,${d.dominoGroupsOu}`} [member]`]);
    const message = first.steps.flatMap((s) => s.problems)[0]!.message;
    expect(message).toContain('cn=Old Partner,o=Elsewhere');
    const listed = d.cli(['unresolved', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ group: expect.stringContaining('Notes Sales'), member: 'cn=Old Partner,o=Elsewhere' }),
    ]);
  });

  it('nothing changed: the next cycle writes nothing and does not report the unresolved member again', () => {
    const report = ran(cycle());
    expect(problems(report)).toEqual([]);
    expect(allExports(report)).toBe(0);
  });

  it('an auditor sees a group’s members resolved, and those that are not with why', () => {
    const shown = d.cli(['mv', 'show', 'notes.sales@notes.acme.test', '--json']);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as {
      members: { attribute: string; resolved: { label: string }[] }[];
      unresolvedMembers: { member: string; reason: string }[];
    };
    expect(detail.members.map((m) => [m.attribute, m.resolved.map((r) => r.label.replace(/#\d+ /, ''))])).toEqual([
      ['members', [`DominoUser ${people.Alice} (domino-people)`, `DominoUser ${people.Bob} (domino-people)`]],
    ]);
    expect(detail.unresolvedMembers).toEqual([
      expect.objectContaining({ member: 'cn=Old Partner,o=Elsewhere', reason: expect.stringContaining('no object at this DN') }),
    ]);
    const text = d.cli(['mv', 'show', 'notes.sales@notes.acme.test']).stdout;
    expect(text).toContain('members (2 resolved)');
    expect(text).toContain('unresolved members (1');
  });

  it('the web view shows the same on the group’s page', async () => {
    const id = (JSON.parse(d.cli(['mv', 'show', 'notes.sales@notes.acme.test', '--json']).stdout) as { id: number }).id;
    const token = randomBytes(16).toString('hex');
    const served = await startServe(d.configFile, d.env, token);
    try {
      const html = await (await fetch(`${served.base}/object/${id}`, { headers: { Authorization: `Bearer ${token}` } })).text();
      expect(html).toContain('Members (members): 2 resolved');
      expect(html).toContain(escapeHtml(people.Alice!));
      expect(html).toMatch(/<table id="unresolved-members">.*cn=Old Partner,o=Elsewhere/s);
    } finally {
      served.stop();
    }
  });

  it('plan shows the membership change an export would send, value by value', () => {
    slapd.modify(`dn: cn=Notes All,${d.dominoGroupsOu}\nchangetype: modify\nadd: member\nmember: ${people.Bob}\n`);
    ran(d.cli(['run', 'delta-cycle', '--staging', '--json']), 'completed-warnings');
    const plan = d.cli(['plan', '--csv']).stdout;
    expect(plan).toContain(`"ad-group-contacts","modify","CN=Notes All,${d.adGroupContactsOu}","","member (add)","","${adContact('Bob Baker')}"`);
    const report = ran(cycle());
    expect(exported(report, 'ad-group-contacts')).toEqual({ adds: 0, updates: 1, deletes: 0, valuesAdded: 1, valuesRemoved: 0 });
    slapd.modify(`dn: cn=Notes All,${d.dominoGroupsOu}\nchangetype: modify\ndelete: member\nmember: ${people.Bob}\n`);
    expect(exported(ran(cycle()), 'ad-group-contacts')).toEqual({ adds: 0, updates: 1, deletes: 0, valuesAdded: 0, valuesRemoved: 1 });
  });

  it('a member removed and one added in one change are two values written, not the list', async () => {
    slapd.modify(
      `dn: cn=Notes Sales,${d.dominoGroupsOu}\nchangetype: modify\ndelete: member\nmember: ${people.Bob}\n-\nadd: member\nmember: ${people.Carol}\n`,
    );
    const report = ran(cycle());
    expect(exported(report, 'ad-group-contacts')).toEqual({ adds: 0, updates: 1, deletes: 0, valuesAdded: 1, valuesRemoved: 1 });
    expect(dns(text((await adGroup('Notes Sales'))?.member))).toEqual(dns([adContact('Alice Archer'), adContact('Carol Cooper')]));
  });

  it('members before groups: a mailbox created and put in a group in the same cycle is in the Domino group by its end', async () => {
    const rita = await d.addAdMailbox({ given: 'Rita', sn: 'Reyes', mail: 'rita@exchange.acme.test' });
    const xsales = `CN=Exchange Sales,${d.adGroupsOu}`;
    await d.adModify(xsales, { member: [`CN=Paula Perez,${d.adPeopleOu}`, rita] });
    const report = ran(cycle());
    expect(exported(report, 'domino-contacts').adds).toBe(1);
    expect(exported(report, 'domino-group-contacts')).toEqual({ adds: 0, updates: 1, deletes: 0, valuesAdded: 1, valuesRemoved: 1 });
    expect(dns(dominoGroup('Exchange Sales')!.members)).toEqual(dns([dominoContact('Paula Perez'), dominoContact('Rita Reyes')]));
    expect(allExports(ran(cycle()))).toBe(0);
  });

  it('a new group whose member is a new group of the same side: both in one cycle, the member first', async () => {
    const inner = await d.addAdGroup({ cn: 'Exchange Inner', mail: 'exchange.inner@exchange.acme.test', members: [`CN=Paula Perez,${d.adPeopleOu}`] });
    await d.addAdGroup({ cn: 'Exchange Outer', mail: 'exchange.outer@exchange.acme.test', members: [inner] });
    ran(cycle());
    expect(dns(dominoGroup('Exchange Outer')!.members)).toEqual(dns([`cn=Exchange Inner,${d.dominoGroupContactsOu}`]));
    const dInner = d.addDominoGroup({ cn: 'Notes Inner', mail: 'notes.inner@notes.acme.test', members: [people.Alice!] });
    d.addDominoGroup({ cn: 'Notes Outer', mail: 'notes.outer@notes.acme.test', members: [dInner] });
    ran(cycle());
    expect(dns(text((await adGroup('Notes Outer'))?.member))).toEqual(dns([`CN=Notes Inner,${d.adGroupContactsOu}`]));
    expect(allExports(ran(cycle()))).toBe(0);
  });

  it('a person who leaves leaves the groups too; a group deleted at home is deleted on the other side', async () => {
    slapd.modify(`dn: ${people.Carol}\nchangetype: delete\n`);
    await d.adDelete(`CN=Exchange Outer,${d.adGroupsOu}`);
    // The Domino groups still name her (AdminP would remove her from them; slapd does not): dirbridge
    // says so, once per group, by name.
    const report = ran(cycle(), 'completed-warnings');
    expect(problems(report).sort()).toEqual([
      `unresolved-member: cn=Notes All,${d.dominoGroupsOu} [member]`,
      `unresolved-member: cn=Notes Sales,${d.dominoGroupsOu} [member]`,
    ]);
    expect(report.steps.flatMap((s) => s.problems.map((p) => p.message)).every((m) => m.includes(people.Carol!))).toBe(true);
    expect(dns(text((await adGroup('Notes Sales'))?.member))).toEqual(dns([adContact('Alice Archer')]));
    expect(dns(text((await adGroup('Notes All'))?.member))).toEqual(dns([`CN=Notes Sales,${d.adGroupContactsOu}`]));
    expect(dominoGroup('Exchange Outer')).toBeUndefined();
    expect(allExports(ran(cycle()))).toBe(0);
  });

  it('a mailbox that leaves scope leaves the Domino group, and is reported by name while the DL still lists it', async () => {
    const sam = await d.addAdMailbox({ given: 'Sam', sn: 'Stone', mail: 'sam@exchange.acme.test' });
    const xsales = `CN=Exchange Sales,${d.adGroupsOu}`;
    await d.adModify(xsales, { member: [`CN=Paula Perez,${d.adPeopleOu}`, `CN=Rita Reyes,${d.adPeopleOu}`, sam] });
    ran(cycle());
    expect(dns(dominoGroup('Exchange Sales')!.members)).toContain(normalizeDn(dominoContact('Sam Stone')));
    // No longer a mailbox (its mailbox database taken away): out of scope, its Domino contact goes.
    await d.adModify(sam, { homeMDB: [], msExchRecipientTypeDetails: [] });
    const report = ran(cycle(), 'completed-warnings');
    expect(problems(report)).toEqual([`unresolved-member: ${xsales} [member]`]);
    expect(report.steps.flatMap((s) => s.problems)[0]!.message).toContain('out of scope');
    expect(dns(dominoGroup('Exchange Sales')!.members)).toEqual(dns([dominoContact('Paula Perez'), dominoContact('Rita Reyes')]));
    expect(problems(ran(cycle()))).toEqual([]);
  });

  it('a group renamed at home is renamed on the other side, and the group that holds it follows in the same cycle', async () => {
    await d.adMove(`CN=Exchange Sales,${d.adGroupsOu}`, `CN=Exchange Sales Team,${d.adGroupsOu}`);
    const report = ran(cycle());
    expect(exported(report, 'domino-group-contacts').adds).toBe(0);
    expect(dominoGroup('Exchange Sales')).toBeUndefined();
    expect(dns(dominoGroup('Exchange Sales Team')!.members)).toEqual(dns([dominoContact('Paula Perez'), dominoContact('Rita Reyes')]));
    expect(dns(dominoGroup('Exchange All')!.members)).toEqual(dns([`cn=Exchange Sales Team,${d.dominoGroupContactsOu}`]));
    expect(allExports(ran(cycle()))).toBe(0);
  });

  it('a hand-made Domino group with the address of an Exchange group is joined and left alone', async () => {
    slapd.add(
      `dn: cn=Hand Made,${d.dominoGroupContactsOu}\nobjectClass: dominoGroup\ncn: Hand Made\ninternetaddress: hand.made@exchange.acme.test\nmember: ${people.Alice}\n`,
    );
    // The hand-made group is imported by the confirming import of a cycle before its Exchange group appears.
    ran(cycle());
    await d.addAdGroup({ cn: 'Hand Made', mail: 'hand.made@exchange.acme.test', members: [`CN=Paula Perez,${d.adPeopleOu}`] });
    const report = ran(cycle());
    expect(exported(report, 'domino-group-contacts')).toEqual({ adds: 0, updates: 0, deletes: 0, valuesAdded: 0, valuesRemoved: 0 });
    const hand = dominoGroup('Hand Made')!;
    expect(hand.members).toEqual([people.Alice]);
    expect(hand.description).toEqual([]);
  });
});
