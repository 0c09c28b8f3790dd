/**
 * Switching `groups:` on a running deployment, against the real directories: from addresses to
 * mirrored groups and back, each with the key and one full cycle. Every object dirbridge made in the
 * old mode is replaced at its DN (Samba: a contact by a distribution group, and back; slapd: a Person
 * document by a Group document, and back), nothing of the old mode is left beside the new, and the AD
 * objects keep the X.500 address Outlook has cached.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { deployWithSlapd, type Deployment } from './harness/coexistence.js';
import { mirrorGroups } from './harness/mirror.js';
import type { Slapd } from './harness/slapd.js';
import { allExports, dns, exported, ran, text } from './harness/group-reports.js';

type Cli = ReturnType<Deployment['cli']>;

describe('switching groups: on a running deployment (slapd as Domino, Samba as AD)', () => {
  let slapd: Slapd;
  let d: Deployment;
  let contactLegacyDn: string;
  const run = (profile: string, ...more: string[]): Cli => d.cli(['run', profile, ...more, '--json']);
  const setGroups = (mode: 'address' | 'mirror'): void => {
    const config = parse(readFileSync(d.configFile, 'utf8')) as Record<string, any>;
    if (mode === 'mirror') mirrorGroups(config, { smallRanges: false });
    else config.groups = 'address';
    writeFileSync(d.configFile, stringify(config));
  };
  const adObjects = async (): Promise<Record<string, unknown>[]> =>
    d.adSearch(d.adGroupContactsOu, '(|(objectClass=contact)(objectClass=group))', ['cn', 'objectClass', 'member', 'proxyAddresses', 'legacyExchangeDN']);
  const dominoObjects = (): { dn: string; classes: string[]; members: string[] }[] =>
    slapd
      .search(d.dominoGroupContactsOu, '(|(objectClass=dominoGroup)(objectClass=dominoPerson))', ['objectClass', 'member'])
      .split('\n\n')
      .filter((e) => e.startsWith('dn: '))
      .map((e) => {
        const lines = e.trim().split('\n');
        const values = (name: string): string[] => lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
        return { dn: lines[0]!.slice(4), classes: values('objectClass'), members: values('member') };
      });

  beforeAll(async () => {
    ({ slapd, d } = await deployWithSlapd());
    // A running deployment that carries groups as addresses, with the key written.
    setGroups('address');
    const alice = d.addDominoPerson({ given: 'Alice', sn: 'Archer', mail: 'alice.archer@notes.acme.test' });
    const bob = d.addDominoPerson({ given: 'Bob', sn: 'Baker', mail: 'bob.baker@notes.acme.test' });
    d.addDominoGroup({ cn: 'Notes Switchers', mail: 'notes.switchers@notes.acme.test', members: [alice, bob] });
    const paula = await d.addAdMailbox({ given: 'Paula', sn: 'Perez', mail: 'paula@exchange.acme.test' });
    await d.addAdGroup({ cn: 'Exchange Switchers', mail: 'exchange.switchers@exchange.acme.test', members: [paula] });
    ran(run('initial'));
    const [contact] = await adObjects();
    expect(text(contact?.objectClass)).toContain('contact');
    contactLegacyDn = text(contact?.legacyExchangeDN)[0]!;
    expect(dominoObjects().map((o) => o.classes.includes('dominoPerson'))).toEqual([true]);
  }, 300_000);
  afterAll(async () => slapd?.stop());

  it('to mirror: a staged full cycle plans a delete and an add at the same DN for each group, and sends nothing', async () => {
    setGroups('mirror');
    ran(run('full-cycle', '--staging'), 'completed-warnings');
    const plan = d.cli(['plan', '--csv']).stdout;
    const adDn = `CN=Notes Switchers,${d.adGroupContactsOu}`;
    const dominoDn = `cn=Exchange Switchers,${d.dominoGroupContactsOu}`;
    for (const [agent, dn] of [
      ['ad-group-contacts', adDn],
      ['domino-group-contacts', dominoDn],
    ])
      for (const op of ['delete', 'add']) expect(plan).toContain(`"${agent}","${op}","${dn}"`);
    expect(text((await adObjects())[0]?.objectClass)).toContain('contact');
  });

  it('the full cycle replaces them: groups with their members where the contacts were, the X.500 address kept', async () => {
    const report = ran(run('full-cycle'));
    expect(exported(report, 'ad-group-contacts')).toEqual({ adds: 1, updates: 0, deletes: 1, valuesAdded: 0, valuesRemoved: 0 });
    expect(exported(report, 'domino-group-contacts')).toEqual({ adds: 1, updates: 0, deletes: 1, valuesAdded: 0, valuesRemoved: 0 });
    const ad = await adObjects();
    expect(ad).toHaveLength(1);
    expect(text(ad[0]!.objectClass).map((c) => c.toLowerCase())).toEqual(['top', 'group']);
    expect(dns(text(ad[0]!.member))).toEqual(dns([`CN=Alice Archer,${d.adContactsOu}`, `CN=Bob Baker,${d.adContactsOu}`]));
    expect(text(ad[0]!.proxyAddresses)).toContain(`X500:${contactLegacyDn}`);
    expect(dominoObjects()).toEqual([
      { dn: `cn=Exchange Switchers,${d.dominoGroupContactsOu}`, classes: ['dominoGroup'], members: [`cn=Paula Perez,${d.dominoContactsOu}`] },
    ]);
    expect(allExports(ran(run('delta-cycle')))).toBe(0);
  });

  it('and back to address: contacts again, with the legacyExchangeDN they had, and nothing left pending', async () => {
    setGroups('address');
    const report = ran(run('full-cycle'));
    expect(exported(report, 'ad-group-contacts')).toEqual({ adds: 1, updates: 0, deletes: 1, valuesAdded: 0, valuesRemoved: 0 });
    expect(exported(report, 'domino-group-contacts')).toEqual({ adds: 1, updates: 0, deletes: 1, valuesAdded: 0, valuesRemoved: 0 });
    const ad = await adObjects();
    expect(ad).toHaveLength(1);
    expect(text(ad[0]!.objectClass)).toContain('contact');
    expect(text(ad[0]!.legacyExchangeDN)).toEqual([contactLegacyDn]);
    expect(text(ad[0]!.member)).toEqual([]);
    expect(dominoObjects().map((o) => o.classes.includes('dominoPerson'))).toEqual([true]);
    expect(allExports(ran(run('delta-cycle')))).toBe(0);
  });
});
