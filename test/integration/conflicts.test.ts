/**
 * Address conflicts against the real directories: a person being migrated has a Domino person and an
 * Exchange mailbox with the same address. No contact may capture the address; the conflict is
 * reported once (not on every run), stays listed while it lasts, and resolves itself when one side goes.
 */
import { Client } from 'ldapts';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

let slapd: Slapd;
let d: Deployment;
beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoPeopleOnly: true }));
});
afterAll(async () => slapd?.stop());

const MAIL = 'mia.migrating@acme.test';
const conflictsIn = (r: { report?: RunReportJson }): RunReportJson['steps'][number]['problems'] =>
  r.report!.steps.flatMap((s) => s.problems).filter((p) => p.code === 'address-conflict');

async function dominoContactMails(): Promise<string[]> {
  const c = new Client({ url: slapd.url });
  await c.bind(slapd.rootDn, slapd.password);
  const { searchEntries } = await c.search(d.dominoContactsOu, { scope: 'sub', filter: '(objectClass=dominoPerson)', attributes: ['mailaddress'] });
  await c.unbind();
  return searchEntries.map((e) => String(e.mailaddress));
}

describe('a person being migrated (same address in Domino and Exchange)', () => {
  it('gets no contact on either side, and the conflict is reported once per object', async () => {
    d.addDominoPerson({ given: 'Mia', sn: 'Migrating', mail: MAIL });
    await d.addAdMailbox({ given: 'Mia', sn: 'Migrating', mail: MAIL, nickname: 'mia.migrating' });
    d.addDominoPerson({ given: 'Noel', sn: 'Normal', mail: 'noel.normal@notes.acme.test' });

    const first = d.cli(['run', 'initial', '--json']);
    expect(first.report?.status).toBe('completed-errors');
    const reported = conflictsIn(first);
    expect(reported).toHaveLength(2);
    expect(reported).toContainEqual(
      expect.objectContaining({
        attribute: 'mail',
        object: expect.stringContaining('DominoUser'),
        message: expect.stringContaining(`mail ${MAIL} also belongs to ExchangeUser`),
      }),
    );
    expect(reported).toContainEqual(
      expect.objectContaining({
        attribute: 'mail',
        object: expect.stringContaining('ExchangeUser'),
        message: expect.stringContaining(`mail ${MAIL} also belongs to DominoUser`),
      }),
    );
    expect((await d.adSearch(d.adContactsOu, `(mail=${MAIL})`)).length).toBe(0);
    expect((await d.adSearch(d.adContactsOu, '(mail=noel.normal@notes.acme.test)')).length).toBe(1);
    expect(await dominoContactMails()).not.toContain(MAIL);

    // Later runs, delta and full, do not report it again, and do not count it as an error.
    for (const profile of ['delta-cycle', 'full-cycle', 'initial']) {
      const again = d.cli(['run', profile, '--json']);
      expect({ profile, status: again.report?.status, conflicts: conflictsIn(again) }).toEqual({ profile, status: 'success', conflicts: [] });
    }
  });

  it('stays listed by "dirbridge conflicts" while it lasts', () => {
    const listed = JSON.parse(d.cli(['conflicts', '--json']).stdout) as { objectType: string; agent: string; mail: string; others: string; source: string }[];
    expect(listed.map((c) => [c.objectType, c.agent, c.mail]).sort()).toEqual([
      ['DominoUser', 'ad-contacts', MAIL],
      ['ExchangeUser', 'domino-contacts', MAIL],
    ]);
    expect(listed.find((c) => c.objectType === 'DominoUser')?.source).toContain('cn=Mia Migrating');
    const text = d.cli(['conflicts']).stdout;
    expect(text).toContain(MAIL);
    expect(text).toContain('no contact in');
  });

  it('resolves itself when one side goes: the remaining mailbox gets its Domino contact, and the change log says why', async () => {
    slapd.modify(`dn: cn=Mia Migrating,${d.dominoPeopleOu}\nchangetype: delete\n`);
    const r = d.cli(['run', 'full-cycle', '--json']);
    expect(r.report?.status).toBe('success');
    expect(await dominoContactMails()).toContain(MAIL);
    expect((await d.adSearch(d.adContactsOu, `(mail=${MAIL})`)).length).toBe(0);
    expect(JSON.parse(d.cli(['conflicts', '--json']).stdout)).toEqual([]);
    expect(d.cli(['conflicts']).stdout).toBe('no open address conflicts\n');

    const mv = new Database(`${d.dir}/metaverse.db`, { readonly: true });
    const log = mv.prepare("SELECT object_ref, operation, after FROM change_log WHERE operation LIKE 'address-conflict%' ORDER BY id").all() as {
      object_ref: string;
      operation: string;
      after: string;
    }[];
    mv.close();
    expect(log.map((l) => `${l.object_ref} ${l.operation}: ${l.after}`)).toEqual([
      expect.stringMatching(/^DominoUser address-conflict: .*"agent":"ad-contacts"/),
      expect.stringMatching(/^ExchangeUser address-conflict: .*"agent":"domino-contacts"/),
      'DominoUser address-conflict-resolved: {"why":"the object itself is gone"}',
      'ExchangeUser address-conflict-resolved: {"why":"no other object holds the address any more"}',
    ]);
  });
});
