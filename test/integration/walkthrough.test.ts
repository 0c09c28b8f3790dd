/**
 * The MIIS coexistence walkthrough against real directories: Domino people in OpenLDAP (Domino
 * schema), Exchange mailbox users and contacts in a Samba Active Directory, through the CLI.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deploy, type Deployment } from './harness/coexistence.js';
import { startSlapd, type Slapd } from './harness/slapd.js';

let slapd: Slapd;
let d: Deployment;

const str = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

beforeAll(async () => {
  const samba = inject('samba');
  if (!samba) throw new Error('the Samba AD domain controller was not started by the global setup');
  slapd = await startSlapd();
  d = await deploy(slapd, samba);
});

afterAll(async () => {
  await slapd?.stop();
});

async function adContacts(): Promise<Record<string, unknown>[]> {
  return d.adSearch(d.adContactsOu, '(objectClass=contact)');
}

function dominoContacts(): string {
  return slapd.search(d.dominoContactsOu, '(objectClass=dominoPerson)', ['cn', 'sn', 'mailsystem', 'mailaddress', 'description']);
}

/** Asserts a clean run, showing the problems when it is not. */
function expectSuccess(r: ReturnType<Deployment['cli']>): NonNullable<ReturnType<Deployment['cli']>['report']> {
  const report = r.report;
  expect({ status: report?.status, problems: report?.steps.flatMap((s) => s.problems), stderr: r.stderr }).toEqual({
    status: 'success',
    problems: [],
    stderr: '',
  });
  expect(r.code).toBe(0);
  return report!;
}

function exportTotals(report: NonNullable<ReturnType<Deployment['cli']>['report']>): number {
  return report.steps.filter((s) => s.type === 'export').reduce((n, s) => n + s.stats.adds! + s.stats.updates! + s.stats.renames! + s.stats.deletes!, 0);
}

describe('coexistence walkthrough (slapd as Domino, Samba as AD)', () => {
  it('first run: every Domino person becomes an AD contact and every mailbox a Domino contact', async () => {
    d.addDominoPerson({ given: 'Alice', sn: 'Archer', mail: 'alice.archer@notes.acme.test' });
    // Names with every DN special character and non-ASCII must round-trip.
    d.addDominoPerson({ given: 'Anna, "AJ"', sn: 'Müller+Schmidt\\Ø;<x>=#1', mail: 'anna.mueller@notes.acme.test' });
    d.addDominoPerson({ given: '#Seán', sn: "O'Brien", mail: 'sean.obrien@notes.acme.test' });
    d.addDominoPerson({ given: 'Hand', sn: 'Made', mail: 'hand.made@notes.acme.test' });
    await d.addAdMailbox({ given: 'Paula', sn: 'Perez', mail: 'paula.perez@exchange.acme.test' });
    await d.addAdMailbox({ given: 'Björn', sn: 'Ødegård, Jr.', mail: 'bjorn.odegard@exchange.acme.test' });
    // A contact an administrator made by hand for a Domino person, before dirbridge.
    await d.adAdd(`CN=Hand Made (manual),${d.adContactsOu}`, {
      objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
      sn: 'Made',
      mail: 'hand.made@notes.acme.test',
      targetAddress: 'SMTP:hand.made@notes.acme.test',
    });

    expectSuccess(d.cli(['run', 'initial', '--json']));

    const contacts = await adContacts();
    const byMail = new Map(contacts.map((c) => [String(c.mail), c]));
    expect(contacts).toHaveLength(4); // three created + the hand-made one, joined rather than duplicated
    const anna = byMail.get('anna.mueller@notes.acme.test')!;
    expect(anna.cn).toBe('Anna, "AJ" Müller+Schmidt\\Ø;<x>=#1');
    expect(anna.targetAddress).toBe('SMTP:anna.mueller@notes.acme.test');
    // Reply-ability: a stable legacyExchangeDN, and the same value as an X500 address.
    expect(anna.legacyExchangeDN).toMatch(/^\/o=Acme\/.*\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(str(anna.proxyAddresses).sort()).toEqual(['SMTP:anna.mueller@notes.acme.test', `X500:${String(anna.legacyExchangeDN)}`]);
    expect(anna.adminDescription).toBe('dirbridge:managed');
    expect(byMail.get('sean.obrien@notes.acme.test')!.cn).toBe("#Seán O'Brien");
    const hand = byMail.get('hand.made@notes.acme.test')!;
    expect(hand.dn).toBe(`CN=Hand Made (manual),${d.adContactsOu}`);
    expect(hand.adminDescription).toBeUndefined(); // joined, not owned: never stamped

    const domino = dominoContacts();
    expect(domino).toContain('mailaddress: paula.perez@exchange.acme.test');
    expect(domino).toContain('mailsystem: 5');
    expect(domino).toContain(`cn:: ${Buffer.from('Björn Ødegård, Jr.').toString('base64')}`);
    // dirbridge's Domino contacts sit in the directory the people are imported from; none became a person.
    const mv = new Database(`${d.dir}/metaverse.db`, { readonly: true });
    expect(mv.prepare("SELECT COUNT(*) FROM mv_object WHERE object_type = 'DominoUser'").pluck().get()).toBe(4);
    mv.close();
  });

  it('a second run with no changes writes nothing', () => {
    const report = expectSuccess(d.cli(['run', 'initial', '--json']));
    expect(exportTotals(report)).toBe(0);
    for (const s of report.steps) {
      if (s.type !== 'full-import')
        expect({ step: `${s.agent} ${s.type}`, staged: s.stats.exportsStaged }).toEqual({ step: `${s.agent} ${s.type}`, staged: 0 });
    }
  });

  it('walkthrough 1: a new Domino person gets a contact in the AD contacts OU', async () => {
    d.addDominoPerson({ given: 'Carl', sn: 'Chen', mail: 'carl.chen@notes.acme.test' });
    expectSuccess(d.cli(['run', 'initial', '--json']));
    const carl = (await adContacts()).find((c) => c.mail === 'carl.chen@notes.acme.test');
    expect(carl?.dn).toBe(`CN=Carl Chen,${d.adContactsOu}`);
  });

  it('walkthrough 2: a new AD mailbox user gets a contact in Domino', async () => {
    await d.addAdMailbox({ given: 'Quinn', sn: 'Quist', mail: 'quinn.quist@exchange.acme.test' });
    expectSuccess(d.cli(['run', 'initial', '--json']));
    expect(dominoContacts()).toContain('mailaddress: quinn.quist@exchange.acme.test');
  });

  it("walkthrough 3: a deleted Domino person's AD contact is deleted; a joined hand-made contact is not", async () => {
    slapd.modify(`dn: cn=Alice Archer,${d.dominoPeopleOu}\nchangetype: delete\n\ndn: cn=Hand Made,${d.dominoPeopleOu}\nchangetype: delete\n`);
    expectSuccess(d.cli(['run', 'initial', '--json']));
    const mails = (await adContacts()).map((c) => String(c.mail));
    expect(mails).not.toContain('alice.archer@notes.acme.test');
    expect(mails).toContain('hand.made@notes.acme.test');
    expect(mails).toContain('anna.mueller@notes.acme.test');
  });

  it("walkthrough 4: a deleted AD mailbox user's Domino contact is deleted", async () => {
    await d.adDelete(`CN=Paula Perez,${d.adPeopleOu}`);
    expectSuccess(d.cli(['run', 'initial', '--json']));
    const domino = dominoContacts();
    expect(domino).not.toContain('paula.perez@exchange.acme.test');
    expect(domino).toContain('quinn.quist@exchange.acme.test');
  });

  it('bad entries give per-object errors naming object and attribute; the rest of the run goes on', async () => {
    d.addDominoPerson({ given: 'Norma', sn: 'Nomail' });
    d.addDominoPerson({ given: 'Ivan', sn: 'Invalid', mail: 'ivan at notes.acme.test' });
    // mailNickname is at most 64 characters in the Exchange schema: AD itself rejects this one.
    slapd.add(
      `dn: cn=Long Nick,${d.dominoPeopleOu}\nobjectClass: dominoPerson\ncn: Long Nick\nsn: Nick\nuid: ${'n'.repeat(80)}\ndominoUNID: ${'AB'.repeat(16)}\nmailsystem: 1\ninternetaddress: long.nick@notes.acme.test\n`,
    );
    d.addDominoPerson({ given: 'Gina', sn: 'Good', mail: 'gina.good@notes.acme.test' });

    const r = d.cli(['run', 'initial', '--json']);
    expect(r.code).toBe(2);
    expect(r.report?.status).toBe('completed-errors');
    const problems = r.report!.steps.flatMap((s) => s.problems);
    expect(problems).toContainEqual(expect.objectContaining({ code: 'missing-attribute', attribute: 'mail', object: expect.stringContaining('Norma Nomail') }));
    expect(problems).toContainEqual(
      expect.objectContaining({ code: 'invalid-smtp-address', attribute: 'mail', object: expect.stringContaining('Ivan Invalid') }),
    );
    const rejected = problems.find((p) => p.object.includes('Long Nick'));
    expect(rejected?.message).toMatch(/refused by the directory/);
    expect(rejected?.message).toMatch(/mailNickname/i);
    expect((await adContacts()).map((c) => c.mail)).toContain('gina.good@notes.acme.test');

    // The run history holds the same errors.
    const mv = new Database(`${d.dir}/metaverse.db`, { readonly: true });
    const rows = mv.prepare('SELECT object, attribute, code FROM run_error WHERE run_id = ?').all(r.report!.runId) as {
      object: string;
      attribute: string | null;
      code: string;
    }[];
    mv.close();
    expect(rows.some((e) => e.object.includes('Norma Nomail') && e.attribute === 'mail')).toBe(true);
    expect(rows.some((e) => e.object.includes('Long Nick'))).toBe(true);
  });
});
