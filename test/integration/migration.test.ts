/**
 * The move of a person from Domino to Exchange, against slapd and Samba: the contact dirbridge made
 * goes, the mailbox gets the contact's X500 address, the person's Domino document stands for the
 * mailbox (no second Domino entry), in one delta cycle, whichever side changes first; the move is
 * named by the run report and mv show. Also: a rename keeps a contact's legacyExchangeDN, X500
 * addresses someone else put on a contact or a mailbox stay, 200 moves in one cycle under the
 * deletion threshold, a move undone (the contact returns with its old legacyExchangeDN), and routing
 * subdomains written by address-part templates in both directions.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { escapeDnValue } from '../../src/util/dn.js';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import { run } from './harness/process.js';
import type { Slapd } from './harness/slapd.js';

const EXCHANGE_ROUTING = '@exchange.acme.test';
type Cli = ReturnType<Deployment['cli']>;

function succeeded(r: Cli): RunReportJson {
  const problems = r.report?.steps.flatMap((s) => s.problems.map((p) => `${p.code}: ${p.object}: ${p.message}`)) ?? [];
  expect({ code: r.code, status: r.report?.status, stderr: r.stderr, problems }).toEqual({ code: 0, status: 'success', stderr: '', problems: [] });
  return r.report!;
}

const text = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

describe('the move of a person from Domino to Exchange (Samba AD and slapd)', () => {
  let slapd: Slapd;
  let d: Deployment;
  const provided = inject('samba');
  if (!provided) throw new Error('the Samba AD DC did not start (integration tests need it)');
  const samba = provided;
  const cycle = (): Cli => d.cli(['run', 'delta-cycle', '--json']);
  const dominoDn = (name: string): string => `cn=${escapeDnValue(name)},${d.dominoPeopleOu}`;
  const setForwarding = (name: string, address: string | null): void =>
    slapd.modify(`dn: ${dominoDn(name)}\nchangetype: modify\n${address ? `replace: mailaddress\nmailaddress: ${address}` : 'delete: mailaddress'}\n-\n`);
  /** Every AD object of the test's OUs that answers to an address (mail or a proxy address). */
  const adRecipients = async (mail: string): Promise<Record<string, unknown>[]> =>
    d.adSearch(d.adPeopleOu.replace(/^OU=Mailboxes,/, ''), `(|(mail=${mail})(proxyAddresses=smtp:${mail}))`, [
      'objectClass',
      'proxyAddresses',
      'legacyExchangeDN',
    ]);
  const contactOf = async (mail: string): Promise<Record<string, unknown> | undefined> =>
    (await d.adSearch(d.adContactsOu, `(mail=${mail})`, ['proxyAddresses', 'legacyExchangeDN', 'targetAddress']))[0];
  const dominoEntries = (mail: string): string[] =>
    run('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      slapd.url,
      '-D',
      slapd.rootDn,
      '-w',
      slapd.password,
      '-b',
      slapd.suffix,
      `(|(internetaddress=${mail})(mailaddress=${mail}))`,
      'dn',
    ])
      .split('\n')
      .filter((l) => l.startsWith('dn'));
  const pending = (): unknown[] => (JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: unknown[] }).exports;

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({
      migration: { movedWhen: [{ attribute: 'mailaddress', endsWith: EXCHANGE_ROUTING }], writeX500: ['ad-mailboxes'] },
      safety: { deletionThreshold: { count: 250, percent: 100, minimumObjects: 0 } },
    }));
    for (const [given, sn] of [
      ['Ann', 'Mover'],
      ['Ben', 'Later'],
      ['Cleo', 'Renamed'],
      ['Dora', 'Undone'],
    ] as const)
      d.addDominoPerson({ given, sn, mail: `${given.toLowerCase()}.${sn.toLowerCase()}@acme.test` });
    succeeded(await d.cliAsync(['run', 'initial', '--json']).then((r) => ({ ...r, report: JSON.parse(r.stdout) as RunReportJson })));
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('every contact dirbridge made has a legacyExchangeDN under the prefix and its X500 proxy address', async () => {
    const c = (await contactOf('ann.mover@acme.test'))!;
    const legacyDn = text(c.legacyExchangeDN)[0]!;
    expect(legacyDn).toMatch(/^\/o=Acme\/ou=Exchange Administrative Group \(FYDIBOHF23SPDLT\)\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(text(c.proxyAddresses).sort()).toEqual(['SMTP:ann.mover@acme.test', `X500:${legacyDn}`].sort());
  });

  it('migrated in one cycle: the contact goes, the mailbox gets its X500 (beside one someone else added), the Domino document stands for the mailbox', async () => {
    const legacyDn = text((await contactOf('ann.mover@acme.test'))!.legacyExchangeDN)[0]!;
    // The migration: a mailbox for Ann, with an X500 an earlier migration tool left; her Person document forwards to Exchange.
    const box = await d.addAdMailbox({ given: 'Ann', sn: 'Mover', mail: 'ann.mover@acme.test' });
    await d.adModify(box, { proxyAddresses: ['SMTP:ann.mover@acme.test', 'X500:/o=Tool/cn=Recipients/cn=ann'] });
    setForwarding('Ann Mover', `ann.mover${EXCHANGE_ROUTING}`);

    const report = succeeded(cycle());
    expect(report.moves).toEqual([
      expect.objectContaining({
        person: expect.stringContaining('Ann Mover'),
        mailbox: expect.stringContaining(box),
        entry: `${dominoDn('Ann Mover')} (domino-people)`,
        contactsDeleted: [`CN=Ann Mover,${d.adContactsOu} (ad-contacts)`],
        x500: [`X500:${legacyDn}`],
        x500Written: true,
      }),
    ]);
    // One recipient per directory for the address.
    const ad = await adRecipients('ann.mover@acme.test');
    expect(ad).toHaveLength(1);
    expect(text(ad[0]!.objectClass)).toContain('user');
    expect(text(ad[0]!.proxyAddresses).sort()).toEqual(['SMTP:ann.mover@acme.test', 'X500:/o=Tool/cn=Recipients/cn=ann', `X500:${legacyDn}`].sort());
    expect(dominoEntries('ann.mover@acme.test')).toEqual([`dn: ${dominoDn('Ann Mover')}`]);
    expect(pending()).toEqual([]);

    const shown = d.cli(['mv', 'show', 'ann.mover@acme.test']);
    expect(shown.stdout).toMatch(/moves \(a person who moved/);
    expect(shown.stdout).toMatch(/migrated/);
    expect(shown.stdout).toContain(`X500:${legacyDn}`);
    // The next cycle, with nothing changed, has nothing to do.
    expect(succeeded(cycle()).moves).toEqual([]);
    expect(pending()).toEqual([]);
  });

  it('the mailbox first (an address conflict, as before), the Domino document later: the move is made by the cycle that sees the document', async () => {
    await d.addAdMailbox({ given: 'Ben', sn: 'Later', mail: 'ben.later@acme.test' });
    const first = cycle();
    expect(first.report!.steps.flatMap((s) => s.problems.map((p) => p.code))).toEqual(['address-conflict']);
    expect(await adRecipients('ben.later@acme.test')).toHaveLength(2); // the contact and the mailbox, until the person moves

    setForwarding('Ben Later', `ben.later${EXCHANGE_ROUTING}`);
    const report = succeeded(cycle());
    expect(report.moves).toHaveLength(1);
    expect(await adRecipients('ben.later@acme.test')).toHaveLength(1);
    expect(dominoEntries('ben.later@acme.test')).toHaveLength(1);
    expect(JSON.parse(d.cli(['conflicts', '--json']).stdout)).toEqual([]);
    expect(pending()).toEqual([]);
  });

  it('a rename keeps the legacyExchangeDN; an X500 someone added to a contact is never removed', async () => {
    const before = (await contactOf('cleo.renamed@acme.test'))!;
    const legacyDn = text(before.legacyExchangeDN)[0]!;
    const contactDn = `CN=Cleo Renamed,${d.adContactsOu}`;
    await d.adModify(contactDn, { proxyAddresses: [...text(before.proxyAddresses), 'X500:/o=ByHand/cn=cleo'] });
    slapd.modify(`dn: ${dominoDn('Cleo Renamed')}\nchangetype: modrdn\nnewrdn: cn=Cleo Married\ndeleteoldrdn: 1\n`);
    slapd.modify(`dn: ${dominoDn('Cleo Married')}\nchangetype: modify\nreplace: sn\nsn: Married\n-\n`);
    succeeded(cycle());
    const after = (await d.adSearch(d.adContactsOu, '(mail=cleo.renamed@acme.test)', ['cn', 'proxyAddresses', 'legacyExchangeDN']))[0]!;
    expect(text(after.cn)).toEqual(['Cleo Married']);
    expect(text(after.legacyExchangeDN)).toEqual([legacyDn]);
    expect(text(after.proxyAddresses).sort()).toEqual(['SMTP:cleo.renamed@acme.test', `X500:${legacyDn}`, 'X500:/o=ByHand/cn=cleo'].sort());
    expect(pending()).toEqual([]);
  });

  it('a move undone (the mailbox deleted again): the contact returns in one cycle with its old legacyExchangeDN', async () => {
    const legacyDn = text((await contactOf('dora.undone@acme.test'))!.legacyExchangeDN)[0]!;
    const box = await d.addAdMailbox({ given: 'Dora', sn: 'Undone', mail: 'dora.undone@acme.test' });
    setForwarding('Dora Undone', `dora.undone${EXCHANGE_ROUTING}`);
    expect(succeeded(cycle()).moves).toHaveLength(1);
    expect(await contactOf('dora.undone@acme.test')).toBeUndefined();

    // Undone on the Exchange side: the mailbox goes; Domino has not been told yet (still forwarding).
    await d.adDelete(box);
    succeeded(cycle());
    const back = (await contactOf('dora.undone@acme.test'))!;
    expect(text(back.legacyExchangeDN)).toEqual([legacyDn]);
    expect(text(back.proxyAddresses)).toContain(`X500:${legacyDn}`);
    expect(dominoEntries('dora.undone@acme.test')).toEqual([`dn: ${dominoDn('Dora Undone')}`]);
    expect(pending()).toEqual([]);
    // Then Domino: the forwarding address removed. Dora is a Notes user as before, nothing else changes.
    setForwarding('Dora Undone', null);
    expect(succeeded(cycle()).moves).toEqual([]);
    expect(text((await contactOf('dora.undone@acme.test'))!.legacyExchangeDN)).toEqual([legacyDn]);
    expect(pending()).toEqual([]);
  });

  it('200 people moved in one cycle, under the deletion threshold: 200 contacts deleted, 200 mailboxes with their X500', async () => {
    const n = 200;
    const tag = randomBytes(2).toString('hex');
    const mail = (i: number): string => `bulk${i}.${tag}@acme.test`;
    slapd.add(
      Array.from({ length: n }, (_, i) =>
        [
          `dn: cn=Bulk${i} ${tag},${d.dominoPeopleOu}`,
          'objectClass: dominoPerson',
          `cn: Bulk${i} ${tag}`,
          `sn: ${tag}`,
          `dominoUNID: ${randomBytes(16).toString('hex').toUpperCase()}`,
          'mailsystem: 1',
          `internetaddress: ${mail(i)}`,
          '',
        ].join('\n'),
      ).join('\n'),
    );
    succeeded(cycle());
    expect((await d.adSearch(d.adContactsOu, `(mail=*.${tag}@acme.test)`, ['cn'])).length).toBe(n);

    const adAuth = ['-x', '-H', samba.url, '-D', samba.bindDn, '-w', samba.password];
    run(
      'ldapadd',
      adAuth,
      Array.from({ length: n }, (_, i) =>
        [
          `dn: CN=Bulk${i} ${tag},${d.adPeopleOu}`,
          'objectClass: user',
          `sAMAccountName: b${tag}${i}`,
          `sn: ${tag}`,
          `mail: ${mail(i)}`,
          `mailNickname: bulk${i}.${tag}`,
          `proxyAddresses: SMTP:${mail(i)}`,
          `homeMDB: ${samba.mailboxDatabaseDn}`,
          'msExchRecipientTypeDetails: 1',
          '',
        ].join('\n'),
      ).join('\n'),
    );
    slapd.modify(
      Array.from(
        { length: n },
        (_, i) => `dn: cn=Bulk${i} ${tag},${d.dominoPeopleOu}\nchangetype: modify\nreplace: mailaddress\nmailaddress: bulk${i}.${tag}${EXCHANGE_ROUTING}\n-\n`,
      ).join('\n'),
    );
    const report = succeeded(cycle());
    expect(report.moves).toHaveLength(n);
    expect(report.steps.find((s) => s.agent === 'ad-contacts' && s.type === 'export')!.stats.deletes).toBe(n);
    expect(report.steps.find((s) => s.agent === 'ad-mailboxes' && s.type === 'export')!.stats.updates).toBe(n);
    expect(await d.adSearch(d.adContactsOu, `(mail=*.${tag}@acme.test)`, ['cn'])).toEqual([]);
    const boxes = await d.adSearch(d.adPeopleOu, `(&(mail=*.${tag}@acme.test)(proxyAddresses=X500:*))`, ['cn']);
    expect(boxes).toHaveLength(n);
    expect(pending()).toEqual([]);
  }, 300_000);
});

describe('routing subdomains: address-part templates in both directions (Samba AD and slapd)', () => {
  let slapd: Slapd;
  let d: Deployment;

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd({
      editRules: (rules) => {
        rules['ad-contacts'].exportFlows.targetAddress = { template: 'SMTP:{mail.local}@notes.acme.test' };
        rules['domino-contacts'].exportFlows.mailaddress = { template: '{mail.local}@exchange.acme.test' };
      },
    }));
    d.addDominoPerson({ given: 'Nina', sn: 'Notes', mail: 'nina.notes@acme.test' });
    await d.addAdMailbox({ given: 'Eric', sn: 'Exchange', mail: 'eric.exchange@acme.test' });
    const r = await d.cliAsync(['run', 'initial', '--json']);
    succeeded({ ...r, report: JSON.parse(r.stdout) as RunReportJson });
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('the AD contact keeps the primary address and routes through the Notes subdomain; the Domino contact forwards through the Exchange one', async () => {
    const contact = (await d.adSearch(d.adContactsOu, '(mail=nina.notes@acme.test)', ['targetAddress', 'proxyAddresses']))[0]!;
    expect(text(contact.targetAddress)).toEqual(['SMTP:nina.notes@notes.acme.test']);
    expect(text(contact.proxyAddresses)).toContain('SMTP:nina.notes@acme.test');
    const domino = run('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      slapd.url,
      '-D',
      slapd.rootDn,
      '-w',
      slapd.password,
      '-b',
      d.dominoContactsOu,
      '(internetaddress=eric.exchange@acme.test)',
      'mailaddress',
    ]);
    expect(domino).toMatch(/^mailaddress: eric\.exchange@exchange\.acme\.test$/m);
    // A second cycle with nothing changed: nothing pending, nothing written.
    succeeded(d.cli(['run', 'delta-cycle', '--json']));
    expect((JSON.parse(d.cli(['plan', '--json']).stdout) as { exports: unknown[] }).exports).toEqual([]);
  });
});
