/**
 * Groups as addresses (the GALSync way), against the real directories: Domino Group documents in
 * slapd and AD groups in Samba, with the shipped rules; Domino mail-in databases and rooms likewise. A mail group becomes a mail contact in the
 * other directory, which its home system expands; groups that carry no mail stay where they are. Each
 * change reaches the other side in one delta cycle, with the same ownership and deletion rules as people.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

type Cli = ReturnType<Deployment['cli']>;

/** SyncedUDGasContact: Outlook shows the contact as a distribution list. */
const DISTRIBUTION_LIST_AS_CONTACT = '-2147483386';

function succeeded(r: Cli): RunReportJson {
  const problems = r.report?.steps.flatMap((s) => s.problems.map((p) => `${p.code}: ${p.object}: ${p.message}`)) ?? [];
  const stopped = r.report?.steps.filter((s) => s.message).map((s) => `${s.agent} ${s.type}: ${s.message}`) ?? [];
  expect({ code: r.code, status: r.report?.status, stderr: r.stderr, problems, stopped }).toEqual({
    code: 0,
    status: 'success',
    stderr: '',
    problems: [],
    stopped: [],
  });
  return r.report!;
}

const written = (report: RunReportJson, agent: string): Record<string, number> => {
  const s = report.steps.filter((x) => x.agent === agent && x.type === 'export');
  const sum = (k: string): number => s.reduce((n, x) => n + (x.stats[k] ?? 0), 0);
  return { adds: sum('adds'), updates: sum('updates'), renames: sum('renames'), deletes: sum('deletes') };
};
const nothing = { adds: 0, updates: 0, renames: 0, deletes: 0 };
const text = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

describe('groups, mail-in databases and rooms as addresses (slapd as Domino, Samba as AD)', () => {
  let slapd: Slapd;
  let d: Deployment;
  const cycle = (): Cli => d.cli(['run', 'delta-cycle', '--json']);
  const adGroupContacts = async (): Promise<Record<string, unknown>[]> =>
    (await d.adSearch(d.adGroupContactsOu, '(objectClass=contact)')).sort((a, b) => String(a.mail).localeCompare(String(b.mail)));
  const dominoGroupContacts = (): Record<string, string> =>
    Object.fromEntries(
      slapd
        .search(d.dominoGroupContactsOu, '(objectClass=dominoPerson)', ['cn', 'mailaddress'])
        .split('\n\n')
        .filter((e) => e.includes('mailaddress: '))
        .map((e) => [/^mailaddress: (.*)$/m.exec(e)![1]!, /^cn: (.*)$/m.exec(e)![1]!]),
    );

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd());
    const alice = d.addDominoPerson({ given: 'Alice', sn: 'Archer', mail: 'alice.archer@notes.acme.test' });
    d.addDominoGroup({ cn: 'Notes Sales', mail: 'notes.sales@notes.acme.test', members: [alice] });
    d.addDominoGroup({ cn: 'Project Falcon', mail: 'falcon@notes.acme.test', groupType: '0' });
    d.addDominoGroup({ cn: 'Admins ACL', mail: 'admins.acl@notes.acme.test', groupType: '2' });
    d.addDominoGroup({ cn: 'Deny Access', mail: 'deny@notes.acme.test', groupType: '3' });
    d.addDominoGroup({ cn: 'LocalDomainServers', mail: 'lds@notes.acme.test', groupType: '0' });
    d.addDominoGroup({ cn: 'Lunch Club' }); // no Internet address
    d.addDominoMailIn({ cn: 'Support Inbox', mail: 'support.inbox@notes.acme.test' });
    d.addDominoMailIn({ cn: 'Room Everest', mail: 'room.everest@notes.acme.test', resourceType: '1' });
    d.addDominoMailIn({ cn: 'Archive' }); // no Internet address: Notes mail only
    const paula = await d.addAdMailbox({ given: 'Paula', sn: 'Perez', mail: 'paula.perez@exchange.acme.test' });
    await d.addAdGroup({ cn: 'Exchange Sales', mail: 'exchange.sales@exchange.acme.test', members: [paula] });
    await d.addAdGroup({ cn: 'Secure Mail', mail: 'secure.mail@exchange.acme.test', security: true });
    await d.addAdGroup({ cn: 'File Share Readers', security: true, members: [paula] }); // no mail
    const first = await d.cliAsync(['run', 'initial', '--json']);
    if (!first.stdout.trim().startsWith('{')) throw new Error(`the first setup printed no report (exit ${first.code}): ${first.stderr}`);
    succeeded({ ...first, report: JSON.parse(first.stdout) as RunReportJson });
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('first setup: each mail group is a contact on the other side, shown as a distribution list; groups without mail stay home', async () => {
    const contacts = await adGroupContacts();
    expect(contacts.map((c) => [c.cn, c.mail, c.targetAddress])).toEqual([
      ['Project Falcon', 'falcon@notes.acme.test', 'SMTP:falcon@notes.acme.test'],
      ['Notes Sales', 'notes.sales@notes.acme.test', 'SMTP:notes.sales@notes.acme.test'],
    ]);
    const sales = contacts[1]!;
    expect(sales.msExchRecipientDisplayType).toBe(DISTRIBUTION_LIST_AS_CONTACT);
    expect(sales.mailNickname).toBe('notes.sales');
    expect(sales.adminDescription).toBe('dirbridge:managed');
    expect(text(sales.legacyExchangeDN)[0]).toMatch(/^\/o=Acme\/.*\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(text(sales.proxyAddresses).sort()).toEqual(['SMTP:notes.sales@notes.acme.test', `X500:${text(sales.legacyExchangeDN)[0]}`]);
    // Members are not carried: the home system expands the group.
    expect(sales.member).toBeUndefined();

    expect(dominoGroupContacts()).toEqual({ 'exchange.sales@exchange.acme.test': 'Exchange Sales', 'secure.mail@exchange.acme.test': 'Secure Mail' });
    // The people are carried beside the groups, in their own containers.
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)')).map((c) => c.mail)).toEqual(['alice.archer@notes.acme.test']);
  });

  it('a delta cycle with nothing changed writes nothing', () => {
    const report = succeeded(cycle());
    for (const agent of ['ad-group-contacts', 'domino-group-contacts', 'ad-mailin-contacts', 'ad-contacts', 'domino-contacts'])
      expect({ agent, ...written(report, agent) }).toEqual({ agent, ...nothing });
  });

  it('a new group on either side is addressable from the other after one delta cycle', async () => {
    d.addDominoGroup({ cn: 'Notes Support', mail: 'support@notes.acme.test' });
    await d.addAdGroup({ cn: 'Exchange Support', mail: 'exchange.support@exchange.acme.test' });
    const report = succeeded(cycle());
    expect(written(report, 'ad-group-contacts')).toEqual({ ...nothing, adds: 1 });
    expect(written(report, 'domino-group-contacts')).toEqual({ ...nothing, adds: 1 });
    expect((await adGroupContacts()).map((c) => c.mail)).toContain('support@notes.acme.test');
    expect(dominoGroupContacts()['exchange.support@exchange.acme.test']).toBe('Exchange Support');
    expect(written(succeeded(cycle()), 'ad-group-contacts')).toEqual(nothing);
  });

  it('a renamed group renames its contact; a group that stops carrying mail loses it', async () => {
    slapd.modify(
      `dn: cn=Notes Support,${d.dominoGroupsOu}\nchangetype: modrdn\nnewrdn: cn=Notes Helpdesk\ndeleteoldrdn: 1\n\n` +
        `dn: cn=Project Falcon,${d.dominoGroupsOu}\nchangetype: modify\nreplace: grouptype\ngrouptype: 2\n`,
    );
    const report = succeeded(cycle());
    expect(written(report, 'ad-group-contacts')).toEqual({ ...nothing, renames: 1, updates: 1, deletes: 1 });
    const contacts = await adGroupContacts();
    expect(contacts.find((c) => c.mail === 'support@notes.acme.test')?.dn).toBe(`CN=Notes Helpdesk,${d.adGroupContactsOu}`);
    expect(contacts.map((c) => c.mail)).not.toContain('falcon@notes.acme.test');
  });

  it('a deleted group loses its contact in one delta cycle, on both sides', async () => {
    slapd.modify(`dn: cn=Notes Helpdesk,${d.dominoGroupsOu}\nchangetype: delete\n`);
    await d.adDelete(`CN=Exchange Support,${d.adGroupsOu}`);
    const report = succeeded(cycle());
    expect(written(report, 'ad-group-contacts')).toEqual({ ...nothing, deletes: 1 });
    expect(written(report, 'domino-group-contacts')).toEqual({ ...nothing, deletes: 1 });
    expect((await adGroupContacts()).map((c) => c.mail)).toEqual(['notes.sales@notes.acme.test']);
    expect(Object.keys(dominoGroupContacts()).sort()).toEqual(['exchange.sales@exchange.acme.test', 'secure.mail@exchange.acme.test']);
  });

  it('a hand-made contact with a group address is joined and left alone, also when the group goes', async () => {
    await d.adAdd(`CN=Design Team (manual),${d.adGroupContactsOu}`, {
      objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
      mail: 'design@notes.acme.test',
      targetAddress: 'SMTP:design@notes.acme.test',
    });
    succeeded(cycle()); // the contact agent's import sees it: a disconnector, for a group to join
    d.addDominoGroup({ cn: 'Design Team', mail: 'design@notes.acme.test' });
    const report = succeeded(cycle());
    expect(written(report, 'ad-group-contacts').adds).toBe(0);
    const joined = (await adGroupContacts()).filter((c) => c.mail === 'design@notes.acme.test');
    expect(joined.map((c) => [c.dn, c.adminDescription])).toEqual([[`CN=Design Team (manual),${d.adGroupContactsOu}`, undefined]]);

    slapd.modify(`dn: cn=Design Team,${d.dominoGroupsOu}\nchangetype: delete\n`);
    expect(written(succeeded(cycle()), 'ad-group-contacts').deletes).toBe(0);
    expect((await adGroupContacts()).map((c) => c.mail)).toContain('design@notes.acme.test');
  });

  it("a group with a mailbox's address is an address conflict: the group gets no contact while both hold it", async () => {
    d.addDominoGroup({ cn: 'Paula Alias', mail: 'paula.perez@exchange.acme.test' });
    const r = cycle();
    expect(r.report?.steps.flatMap((s) => s.problems.map((p) => p.code))).toContain('address-conflict');
    expect((await adGroupContacts()).map((c) => c.mail)).not.toContain('paula.perez@exchange.acme.test');
    slapd.modify(`dn: cn=Paula Alias,${d.dominoGroupsOu}\nchangetype: delete\n`);
  });

  it('mail-in databases and rooms with an Internet address are mail contacts in AD; a new one follows in one cycle, a deleted one goes', async () => {
    const mailIns = async (): Promise<unknown[][]> =>
      (await d.adSearch(d.adMailInContactsOu, '(objectClass=contact)')).map((c) => [c.cn, c.targetAddress, c.adminDescription]).sort();
    expect(await mailIns()).toEqual([
      ['Room Everest', 'SMTP:room.everest@notes.acme.test', 'dirbridge:managed'],
      ['Support Inbox', 'SMTP:support.inbox@notes.acme.test', 'dirbridge:managed'],
    ]);
    d.addDominoMailIn({ cn: 'Invoices', mail: 'invoices@notes.acme.test' });
    expect(written(succeeded(cycle()), 'ad-mailin-contacts')).toEqual({ ...nothing, adds: 1 });
    expect((await mailIns()).map((c) => c[0])).toContain('Invoices');
    slapd.modify(`dn: cn=Invoices,${d.dominoMailInOu}\nchangetype: delete\n`);
    expect(written(succeeded(cycle()), 'ad-mailin-contacts')).toEqual({ ...nothing, deletes: 1 });
    expect((await mailIns()).map((c) => c[0])).toEqual(['Room Everest', 'Support Inbox']);
  });
});
