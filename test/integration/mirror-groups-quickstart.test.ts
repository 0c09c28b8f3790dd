/**
 * `groups: mirror` on the embedded LDIF deployment: the one key turns the group contacts into groups
 * with their members, on files as on servers (mirror-groups.test.ts runs it against slapd and Samba).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { quickstartCopy } from './harness/quickstart.js';

const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');

interface Step {
  agent: string;
  type: string;
  stats: Record<string, number>;
}

function run(config: string, profile: string): Step[] {
  const r = spawnSync(process.execPath, [CLI, '--config', config, 'run', profile, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' },
  });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`run ${profile}: exit ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { steps: Step[] }).steps;
}

/** The entries of an LDIF content file, by DN: their attributes as lower-case name to values. */
function entries(file: string): Map<string, Record<string, string[]>> {
  const out = new Map<string, Record<string, string[]>>();
  // LDIF folds long lines: a line that starts with a space continues the one before.
  for (const record of readFileSync(file, 'utf8').replace(/\n /g, '').split(/\n\n+/)) {
    const lines = record.split('\n').filter((l) => l && !l.startsWith('version:') && !l.startsWith('#'));
    const dn = lines.shift()?.replace(/^dn: /, '');
    if (!dn) continue;
    const attrs: Record<string, string[]> = {};
    for (const line of lines) {
      const [name, ...rest] = line.split(': ');
      (attrs[name!.toLowerCase()] ??= []).push(rest.join(': '));
    }
    out.set(dn, attrs);
  }
  return out;
}

const written = (steps: Step[], agent: string): Record<string, number> => {
  const s = steps.find((x) => x.agent === agent && x.type === 'export')!.stats;
  return { adds: s.adds!, updates: s.updates!, valuesAdded: s.valuesAdded!, valuesRemoved: s.valuesRemoved! };
};

describe('groups: mirror on the quickstart (LDIF files)', () => {
  let config: string;
  let dir: string;
  beforeAll(() => {
    ({ config, dir } = quickstartCopy({ groups: 'mirror' }));
  });

  it('the first setup writes each mail group as a group of the stand-ins of its members', () => {
    run(config, 'initial');
    const adGroups = entries(join(dir, 'work/ad-group-contacts.ldif'));
    expect(adGroups.get('CN=Notes Sales,OU=Domino Groups,DC=acme,DC=example')).toMatchObject({
      objectclass: ['top', 'group'],
      grouptype: ['8'],
      mail: ['notes.sales@acme.example'],
      member: ['CN=Alice Archer,OU=Domino Contacts,DC=acme,DC=example'],
      admindescription: ['dirbridge:managed'],
    });
    expect(adGroups.get('CN=Notes Sales,OU=Domino Groups,DC=acme,DC=example')?.targetaddress).toBeUndefined();
    // The access-control list and the group without an address stay out, as in address mode.
    expect([...adGroups.keys()].sort()).toEqual([
      'CN=Notes Sales,OU=Domino Groups,DC=acme,DC=example',
      'CN=Project Falcon,OU=Domino Groups,DC=acme,DC=example',
    ]);

    const dominoGroups = entries(join(dir, 'work/domino-group-contacts.ldif'));
    // Paula has a Domino contact; Nora moved from Domino, so her own Person document stands for her mailbox.
    expect(dominoGroups.get('cn=Sales Team,ou=Exchange Groups,o=Acme')).toMatchObject({
      objectclass: ['dominoGroup'],
      grouptype: ['1'],
      member: ['cn=Paula Perez,ou=Exchange Contacts,o=Acme', 'cn=Nora Novak,ou=Sales,o=Acme'],
      description: ['dirbridge:managed'],
    });
  });

  it('a member added and one removed in the same change are one value each in the next delta cycle, then nothing is left to write', () => {
    const names = join(dir, 'domino-names.ldif');
    writeFileSync(
      names,
      readFileSync(names, 'utf8').replace('grouptype: 1\nmember: cn=Alice Archer,ou=Sales,o=Acme\n', 'grouptype: 1\nmember: cn=Bob Baker,ou=Sales,o=Acme\n'),
    );
    const steps = run(config, 'delta-cycle');
    expect(written(steps, 'ad-group-contacts')).toEqual({ adds: 0, updates: 1, valuesAdded: 1, valuesRemoved: 1 });
    expect(entries(join(dir, 'work/ad-group-contacts.ldif')).get('CN=Notes Sales,OU=Domino Groups,DC=acme,DC=example')?.member).toEqual([
      'CN=Bob Baker (Notes),OU=Domino Contacts,DC=acme,DC=example',
    ]);
    const quiet = run(config, 'delta-cycle');
    expect(quiet.filter((s) => s.type === 'export').map((s) => [s.agent, s.stats.adds! + s.stats.updates! + s.stats.deletes!])).toEqual(
      quiet.filter((s) => s.type === 'export').map((s) => [s.agent, 0]),
    );
  });
});

describe('a switch of groups: on a running deployment (LDIF files)', () => {
  let config: string;
  let dir: string;
  const adFile = (): Map<string, Record<string, string[]>> => entries(join(dir, 'work/ad-group-contacts.ldif'));
  const dominoFile = (): Map<string, Record<string, string[]>> => entries(join(dir, 'work/domino-group-contacts.ldif'));
  const SALES = 'CN=Notes Sales,OU=Domino Groups,DC=acme,DC=example';
  const setGroups = (groups: string): void => {
    const raw = parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, stringify({ ...raw, groups }));
  };
  const exported = (steps: Step[]): [string, number, number, number][] =>
    steps.filter((s) => s.type === 'export' && /group/.test(s.agent)).map((s) => [s.agent, s.stats.adds!, s.stats.updates!, s.stats.deletes!]);
  let contactLegacyDn: string[] | undefined;

  beforeAll(() => {
    ({ config, dir } = quickstartCopy({ groups: 'address' }));
    run(config, 'initial');
    contactLegacyDn = adFile().get(SALES)?.legacyexchangedn;
  });

  it('address to mirror: the full cycle replaces each contact dirbridge made by its group, at the same DN, keeping its X.500 address', () => {
    expect(adFile().get(SALES)?.objectclass).toContain('contact');
    setGroups('mirror');
    const steps = run(config, 'full-cycle');
    expect(exported(steps)).toEqual([
      ['ad-group-contacts', 2, 0, 2],
      ['domino-group-contacts', 2, 0, 2],
    ]);
    const sales = adFile().get(SALES)!;
    expect(sales).toMatchObject({ objectclass: ['top', 'group'], grouptype: ['8'], admindescription: ['dirbridge:managed'] });
    // Outlook's cached X.500 address of the contact still finds the group.
    expect(sales.proxyaddresses).toEqual(['SMTP:notes.sales@acme.example', `X500:${contactLegacyDn![0]}`]);
    expect([...adFile().values()].every((e) => !e.objectclass!.includes('contact'))).toBe(true);
    expect([...dominoFile().values()].map((e) => e.objectclass)).toEqual([['dominoGroup'], ['dominoGroup']]);
    // Nothing left pending: the next cycle writes nothing.
    expect(exported(run(config, 'delta-cycle'))).toEqual(exported(run(config, 'delta-cycle')).map(([a]) => [a, 0, 0, 0]));
  });

  it('and back to address: contacts again, with the legacyExchangeDN they had, and nothing left pending', () => {
    setGroups('address');
    expect(exported(run(config, 'full-cycle'))).toEqual([
      ['ad-group-contacts', 2, 0, 2],
      ['domino-group-contacts', 2, 0, 2],
    ]);
    const sales = adFile().get(SALES)!;
    expect(sales.objectclass).toContain('contact');
    expect(sales.legacyexchangedn).toEqual(contactLegacyDn);
    expect(sales.member).toBeUndefined();
    expect([...dominoFile().values()].every((e) => e.objectclass!.includes('dominoPerson'))).toBe(true);
    const quiet = run(config, 'delta-cycle');
    expect(exported(quiet)).toEqual(exported(quiet).map(([a]) => [a, 0, 0, 0]));
  });
});
