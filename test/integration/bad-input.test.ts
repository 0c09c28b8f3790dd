/**
 * Bad input from real directories: each bad object gets an error naming the object, the attribute and
 * the problem, the rest of the run goes on, and nothing is lost or half-written: a person whose entry
 * turns unreadable keeps its contact, a name built to inject lands as a literal name in the right OU.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { escapeFilterValue } from '../../src/util/filter.js';
import { deployWithSlapd, type Deployment, type RunReportJson } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

let slapd: Slapd;
let d: Deployment;
beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoPeopleOnly: true }));
  // audio (octet string) is read too, so a Domino item with bytes that are not UTF-8 reaches the agent.
  const config = parse(readFileSync(d.configFile, 'utf8')) as { agents: Record<string, { attributes: string[] }> };
  config.agents['domino-people']!.attributes.push('audio');
  writeFileSync(d.configFile, stringify(config));
  for (const given of ['Olga', 'Pete']) d.addDominoPerson({ given, sn: 'Plain', mail: `${given.toLowerCase()}.plain@notes.acme.test` });
  expect(d.cli(['run', 'initial', '--json']).report?.status).toBe('success');
});
afterAll(async () => slapd?.stop());

const problemsOf = (r: { report?: RunReportJson }): RunReportJson['steps'][number]['problems'] => r.report!.steps.flatMap((s) => s.problems);
const adContact = async (mail: string): Promise<Record<string, unknown>[]> =>
  d.adSearch(d.adContactsOu, `(mail=${escapeFilterValue(mail)})`, ['cn', 'title', 'distinguishedName']);

describe('values a directory should not hold', () => {
  it('control characters or bytes that are not UTF-8: the entry is refused by name and attribute; a known person keeps its contact', async () => {
    slapd.modify(`dn: cn=Olga Plain,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle:: ${Buffer.from('Chief\u0007Bell').toString('base64')}\n`);
    d.addDominoPerson({ given: 'Bert', sn: 'Bytes', mail: 'bert.bytes@notes.acme.test', extra: { audio: Buffer.from([0x4d, 0xfc, 0x6c, 0xff]) } });
    d.addDominoPerson({ given: 'Gail', sn: 'Good', mail: 'gail.good@notes.acme.test' });
    for (const profile of ['delta-cycle', 'full-cycle']) {
      const r = d.cli(['run', profile, '--json']);
      expect(r.report?.status).toBe('completed-errors');
      const problems = problemsOf(r);
      expect(problems).toContainEqual(
        expect.objectContaining({
          code: 'control-characters',
          attribute: 'title',
          object: `cn=Olga Plain,${d.dominoPeopleOu}`,
          message: expect.stringMatching(/control character \(U\+0007 at position 6\); the object keeps the values of its last good import/),
        }),
      );
      expect(problems).toContainEqual(
        expect.objectContaining({
          code: 'invalid-utf8',
          attribute: 'audio',
          object: `cn=Bert Bytes,${d.dominoPeopleOu}`,
          message: expect.stringMatching(/not valid UTF-8 \(bytes 4dfc6cff\); the object is not imported/),
        }),
      );
      expect(problems.every((p) => p.object.includes('Olga Plain') || p.object.includes('Bert Bytes'))).toBe(true);
    }
    // Olga was not taken as gone (her contact stays, unchanged); Bert was not half-imported; Gail went through.
    expect(await adContact('olga.plain@notes.acme.test')).toEqual([expect.objectContaining({ title: [] })]);
    expect(await adContact('bert.bytes@notes.acme.test')).toEqual([]);
    expect(await adContact('gail.good@notes.acme.test')).toHaveLength(1);

    // Fixed at the source, Olga's change goes through; Bert, removed, leaves nothing behind.
    slapd.modify(
      `dn: cn=Olga Plain,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Chief Bell\n\ndn: cn=Bert Bytes,${d.dominoPeopleOu}\nchangetype: delete\n`,
    );
    expect(d.cli(['run', 'full-cycle', '--json']).report?.status).toBe('success');
    expect(await adContact('olga.plain@notes.acme.test')).toEqual([expect.objectContaining({ title: 'Chief Bell' })]);
  });

  it('the same address on two people: neither gets a contact, each is reported once, and correcting one lets both through', async () => {
    d.addDominoPerson({ given: 'Dora', sn: 'Double', mail: 'shared.box@notes.acme.test' });
    d.addDominoPerson({ given: 'Dana', sn: 'Double', mail: 'shared.box@notes.acme.test' });
    const first = d.cli(['run', 'delta-cycle', '--json']);
    const duplicates = problemsOf(first).filter((p) => p.code === 'duplicate-address');
    expect(duplicates.map((p) => p.object).sort()).toEqual([expect.stringContaining('Dana Double'), expect.stringContaining('Dora Double')]);
    expect(duplicates.every((p) => p.attribute === 'mail' && /data error in the source/.test(p.message))).toBe(true);
    expect(await adContact('shared.box@notes.acme.test')).toEqual([]);
    expect(problemsOf(d.cli(['run', 'full-cycle', '--json'])).filter((p) => p.code === 'duplicate-address')).toEqual([]);

    slapd.modify(`dn: cn=Dana Double,${d.dominoPeopleOu}\nchangetype: modify\nreplace: internetaddress\ninternetaddress: dana.double@notes.acme.test\n`);
    d.cli(['run', 'delta-cycle', '--json']);
    expect(await adContact('shared.box@notes.acme.test')).toEqual([expect.objectContaining({ cn: 'Dora Double' })]);
    expect(await adContact('dana.double@notes.acme.test')).toEqual([expect.objectContaining({ cn: 'Dana Double' })]);
  });

  it('a DN the target rejects (a name longer than AD allows in cn) is named; the rest goes on', async () => {
    const longSn = 'L'.repeat(70);
    d.addDominoPerson({ given: 'Lou', sn: longSn, mail: 'lou.long@notes.acme.test' });
    d.addDominoPerson({ given: 'Sam', sn: 'Short', mail: 'sam.short@notes.acme.test' });
    const r = d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('completed-errors');
    expect(problemsOf(r)).toEqual([
      expect.objectContaining({
        severity: 'error',
        object: `CN=Lou ${longSn},${d.adContactsOu}`,
        attribute: 'cn',
        message: expect.stringMatching(/add refused by the directory: .*attribute 'cn'.*invalid value/),
      }),
    ]);
    expect(await adContact('sam.short@notes.acme.test')).toHaveLength(1);
    // The export stays pending (and is reported each run) until the source changes; Lou leaving ends it.
    expect(problemsOf(d.cli(['run', 'delta-cycle', '--json'])).map((p) => p.object)).toEqual([`CN=Lou ${longSn},${d.adContactsOu}`]);
    slapd.modify(`dn: cn=Lou ${longSn},${d.dominoPeopleOu}\nchangetype: delete\n`);
    expect(d.cli(['run', 'full-cycle', '--json']).report?.status).toBe('success');
    expect(JSON.parse(d.cli(['plan', '--json']).stdout).exports).toEqual([]);
  });
});

describe('names built to inject into a DN or an LDAP filter', () => {
  const given = 'Mal*)(objectClass=*';
  const sn = 'Ory,OU=Domain Admins+uid=root';
  it('a Domino person with DN and filter syntax in the name gets one contact with that literal name, in the contacts OU', async () => {
    d.addDominoPerson({ given, sn, mail: 'mal.ory@notes.acme.test' });
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    const found = await adContact('mal.ory@notes.acme.test');
    expect(found).toHaveLength(1);
    expect(found[0]!.cn).toBe(`${given} ${sn}`);
    expect(String(found[0]!.distinguishedName).endsWith(`,${d.adContactsOu}`)).toBe(true);
    expect(await d.adSearch(d.adContactsOu, `(cn=${escapeFilterValue(`${given} ${sn}`)})`)).toHaveLength(1);
    expect(await d.adSearch(d.adContactsOu, '(cn=Mal*)')).toHaveLength(1);
  });

  it('its changes and its deletion reach that contact, and nothing else', async () => {
    slapd.modify(`dn: cn=${escapeDn(`${given} ${sn}`)},${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Intruder\n`);
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    expect(await adContact('mal.ory@notes.acme.test')).toEqual([expect.objectContaining({ title: 'Intruder' })]);
    const before = (await d.adSearch(d.adContactsOu, '(objectClass=contact)')).length;
    slapd.modify(`dn: cn=${escapeDn(`${given} ${sn}`)},${d.dominoPeopleOu}\nchangetype: delete\n`);
    expect(d.cli(['run', 'full-cycle', '--json']).report?.status).toBe('success');
    expect(await adContact('mal.ory@notes.acme.test')).toEqual([]);
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)')).length).toBe(before - 1);
  });

  it('an AD mailbox with every DN special character gets a Domino contact with the literal name', async () => {
    const name = { given: '#Hash "Quote"', sn: 'Back\\slash;Semi+Plus<Less>' };
    await d.addAdMailbox({ ...name, mail: 'odd.name@exchange.acme.test', nickname: 'odd.name' });
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    const c = new Client({ url: slapd.url });
    await c.bind(slapd.rootDn, slapd.password);
    const { searchEntries } = await c.search(d.dominoContactsOu, { scope: 'sub', filter: '(mailaddress=odd.name@exchange.acme.test)', attributes: ['cn'] });
    await c.unbind();
    expect(searchEntries.map((e) => e.cn)).toEqual([`${name.given} ${name.sn}`]);
  });
});

/** The harness escapes DNs the same way dirbridge does; LDIF needs the DN as the directory has it. */
function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1');
}
