/**
 * The coexistence walkthrough with Exchange Online in place of AD: Graph (users/delta, mailbox
 * detection) and the admin endpoint (mail contacts) served by a local HTTPS server, Domino by slapd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployExchangeOnline, type ExoDeployment } from './harness/exchange-online.js';

let d: ExoDeployment;
beforeAll(async () => {
  d = await deployExchangeOnline();
});
afterAll(async () => d?.stop());

const mailbox = (given: string, sn: string, extra: Record<string, unknown> = {}) =>
  d.cloud.upsertUser({
    userPrincipalName: `${given.toLowerCase()}.${sn.toLowerCase()}@acme.onmicrosoft.com`,
    displayName: `${given} ${sn}`,
    givenName: given,
    surname: sn,
    mail: `${given.toLowerCase()}.${sn.toLowerCase()}@acme.example`,
    mailNickname: `${given.toLowerCase()}.${sn.toLowerCase()}`,
    mailbox: 'user',
    ...extra,
  });

describe('coexistence walkthrough with Exchange Online (local Graph server) and Domino (slapd)', () => {
  it('first setup: mailboxes become Domino contacts, Domino people become Exchange Online mail contacts', async () => {
    mailbox('Ola', 'Online');
    mailbox('Una', 'Unlicensed', { mailbox: false }); // a user without a mailbox gets no contact
    mailbox('Sam', 'Shared', { mailbox: 'shared' });
    d.addDominoPerson({ given: 'Nora', sn: 'Notes', mail: 'nora.notes@notes.acme.example', extra: { uid: 'nnotes' } });
    d.addDominoPerson({ given: 'Nils', sn: 'Notes', mail: 'nils.notes@notes.acme.example', extra: { uid: 'nilsn' } });
    const r = await d.cli(['run', 'initial', '--json']);
    expect({ status: r.report?.status, stderr: r.stderr, problems: r.report?.steps.flatMap((s) => s.problems) }).toEqual({
      status: 'success',
      stderr: '',
      problems: [],
    });
    expect((await d.dominoContacts()).map((c) => [c.cn, c.mailaddress])).toEqual([
      ['Ola Online', 'ola.online@acme.example'],
      ['Sam Shared', 'sam.shared@acme.example'],
    ]);
    expect(d.cloud.contacts().sort((a, b) => a.Name.localeCompare(b.Name))).toEqual([
      expect.objectContaining({ Name: 'Nils Notes', ExternalEmailAddress: 'SMTP:nils.notes@notes.acme.example' }),
      expect.objectContaining({
        Name: 'Nora Notes',
        DisplayName: 'Nora Notes',
        Alias: 'nnotes',
        ExternalEmailAddress: 'SMTP:nora.notes@notes.acme.example',
        CustomAttribute15: 'dirbridge:managed',
      }),
    ]);
    expect(JSON.parse(d.watermark('exo-mailboxes')!)).toMatchObject({ strategy: 'graph-delta', link: expect.stringContaining('$deltatoken=') });
  });

  it('cycles with nothing changed write nothing', async () => {
    for (const profile of ['delta-cycle', 'full-cycle', 'delta-cycle']) {
      const r = await d.cli(['run', profile, '--json']);
      expect(r.report?.status).toBe('success');
      const written = r
        .report!.steps.filter((s) => s.type === 'export')
        .reduce((n, s) => n + s.stats.adds! + s.stats.updates! + s.stats.renames! + s.stats.deletes!, 0);
      expect({ profile, written }).toEqual({ profile, written: 0 });
    }
  });

  it("a Domino person's rename and new short name reach the Exchange Online contact (Set-MailContact)", async () => {
    d.slapd.modify(
      `dn: cn=Nils Notes,${d.dominoPeopleOu}\nchangetype: modrdn\nnewrdn: cn=Nils Renamed\ndeleteoldrdn: 1\n\ndn: cn=Nils Renamed,${d.dominoPeopleOu}\nchangetype: modify\nreplace: uid\nuid: nrenamed\n`,
    );
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('success');
    const exported = r.report!.steps.find((s) => s.agent === 'exo-contacts' && s.type === 'export')!;
    expect({ renames: exported.stats.renames, updates: exported.stats.updates }).toEqual({ renames: 1, updates: 1 });
    expect(d.cloud.contacts().find((c) => c.ExternalEmailAddress === 'SMTP:nils.notes@notes.acme.example')).toMatchObject({
      Name: 'Nils Renamed',
      DisplayName: 'Nils Renamed',
      Alias: 'nrenamed',
    });
    expect(
      (await d.cli(['run', 'delta-cycle', '--json'])).report?.steps
        .filter((s) => s.type === 'export')
        .every((s) => s.stats.updates === 0 && s.stats.renames === 0),
    ).toBe(true);
  });

  it('a new cloud mailbox gets a Domino contact in one delta cycle; a change follows; a deleted one loses it', async () => {
    const user = mailbox('Neil', 'New');
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect({ status: r.report?.status, problems: r.report?.steps.flatMap((s) => s.problems) }).toEqual({ status: 'success', problems: [] });
    expect((await d.dominoContacts()).map((c) => c.cn)).toContain('Neil New');

    d.cloud.upsertUser({ ...user, jobTitle: 'Pilot' });
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    expect((await d.dominoContacts()).find((c) => c.cn === 'Neil New')?.title).toBe('Pilot');

    d.cloud.removeUser(user.id);
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    expect((await d.dominoContacts()).map((c) => c.cn)).not.toContain('Neil New');
  });

  it('a person who moves to Exchange Online: in one cycle the contact goes, the Person document stands for the cloud mailbox, the X500 to add is named', async () => {
    d.addDominoPerson({ given: 'Mia', sn: 'Mover', mail: 'mia.mover@acme.example', extra: { uid: 'mmover' } });
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    const contact = d.cloud.contacts().find((c) => c.ExternalEmailAddress === 'SMTP:mia.mover@acme.example')!;
    expect(contact.LegacyExchangeDN).toMatch(/^\/o=ExchangeLabs\//);

    // The migration: the Person document forwards to the tenant's routing domain, and a cloud mailbox has her address.
    d.slapd.modify(`dn: cn=Mia Mover,${d.dominoPeopleOu}\nchangetype: modify\nreplace: mailaddress\nmailaddress: mia.mover@acme.mail.onmicrosoft.com\n`);
    mailbox('Mia', 'Mover');
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('completed-warnings');
    expect(r.report?.moves).toEqual([
      expect.objectContaining({
        person: expect.stringContaining('Mia Mover'),
        entry: `cn=Mia Mover,${d.dominoPeopleOu} (domino-people)`,
        contactsDeleted: [expect.stringMatching(/^CN=Mia Mover,.* \(exo-contacts\)$/)],
        x500: [`X500:${contact.LegacyExchangeDN}`],
        x500Written: false,
      }),
    ]);
    // Graph cannot write a mailbox's proxy addresses: the warning names the address and the command that adds it.
    expect(r.report?.steps.flatMap((s) => s.problems)).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'x500-not-written',
        attribute: 'proxyAddresses',
        message: expect.stringContaining(`Set-Mailbox -Identity mia.mover@acme.onmicrosoft.com -EmailAddresses @{Add='X500:${contact.LegacyExchangeDN}'}`),
      }),
    ]);
    // One recipient per directory: no cloud contact beside the mailbox, no Domino contact beside her Person document.
    expect(d.cloud.contacts().filter((c) => /mia\.mover/.test(c.ExternalEmailAddress))).toEqual([]);
    expect((await d.dominoContacts()).map((c) => c.cn)).not.toContain('Mia Mover');
    const shown = await d.cli(['mv', 'show', 'mia.mover@acme.example']);
    expect(shown.stdout).toMatch(/migrated/);
    expect(shown.stdout).toContain('not written by dirbridge');

    // The next cycle has nothing to do and says nothing more.
    const next = await d.cli(['run', 'delta-cycle', '--json']);
    expect({ status: next.report?.status, moves: next.report?.moves }).toEqual({ status: 'success', moves: [] });
  });

  it('an Exchange Online distribution list is addressable from Domino after one delta cycle, and goes with its group', async () => {
    const dl = d.cloud.upsertGroup({
      displayName: 'Cloud Sales',
      mail: 'cloud.sales@acme.example',
      mailNickname: 'cloud.sales',
      proxyAddresses: ['SMTP:cloud.sales@acme.example'],
    });
    d.cloud.upsertGroup({ displayName: 'Readers', mailEnabled: false, securityEnabled: true, mailNickname: 'readers' }); // a security group: no mail
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect({ status: r.report?.status, problems: r.report?.steps.flatMap((s) => s.problems) }).toEqual({ status: 'success', problems: [] });
    expect(await d.dominoGroupContacts()).toEqual([{ cn: 'Cloud Sales', mailaddress: 'cloud.sales@acme.example' }]);

    d.cloud.upsertGroup({ ...dl, displayName: 'Cloud Sales EMEA' });
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    expect(await d.dominoGroupContacts()).toEqual([{ cn: 'Cloud Sales EMEA', mailaddress: 'cloud.sales@acme.example' }]);

    d.cloud.removeGroup(dl.id);
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    expect(await d.dominoGroupContacts()).toEqual([]);
  });

  it('a mailbox that goes away (licence removed) loses its contact; a deleted Domino person loses the Exchange Online contact', async () => {
    const sam = d.cloud.upsertUser({ userPrincipalName: 'sam.shared@acme.onmicrosoft.com', mailbox: false });
    void sam;
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
    expect((await d.dominoContacts()).map((c) => c.cn)).toEqual(['Ola Online']);

    d.slapd.modify(`dn: cn=Nora Notes,${d.dominoPeopleOu}\nchangetype: delete\n`);
    expect((await d.cli(['run', 'full-cycle', '--json'])).report?.status).toBe('success');
    expect(d.cloud.contacts().map((c) => c.Name)).toEqual(['Nils Renamed']);
  });
});
