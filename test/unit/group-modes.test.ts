import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { expandGroupModes } from '../../src/config/group-modes.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const ROOT = resolve(import.meta.dirname, '../..');
const quickstart = (): Record<string, any> => parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;

/** The quickstart with its group agents on real directories, as a deployment has them. */
function onServers(): Record<string, any> {
  const config = quickstart();
  const server = (type: string): Record<string, unknown> => ({ type, url: 'ldaps://dir.example:636', bindDn: 'cn=sync', password: { env: 'PW' } });
  config.agents['domino-groups'] = {
    ...server('domino-ldap'),
    baseDn: 'o=Acme',
    filter: '(objectClass=dominoGroup)',
    objectClasses: ['dominoGroup'],
    anchor: 'dominoUNID',
    attributes: ['cn', 'displayname', 'internetaddress', 'grouptype', 'description'],
  };
  config.agents['ad-groups'] = {
    ...server('ad-ldap'),
    baseDn: 'DC=acme,DC=example',
    filter: '(objectClass=group)',
    objectClasses: ['group'],
    attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'proxyAddresses', 'description'],
  };
  config.agents['ad-group-contacts'] = {
    ...server('ad-ldap'),
    baseDn: 'OU=Domino Groups,DC=acme,DC=example',
    filter: '(objectClass=contact)',
    objectClasses: ['contact'],
    attributes: [
      'cn',
      'displayName',
      'mail',
      'mailNickname',
      'targetAddress',
      'proxyAddresses',
      'legacyExchangeDN',
      'description',
      'msExchRecipientDisplayType',
      'adminDescription',
    ],
  };
  config.agents['domino-group-contacts'] = {
    ...server('domino-ldap'),
    baseDn: 'ou=Exchange Groups,o=Acme',
    filter: '(objectClass=dominoPerson)',
    objectClasses: ['dominoPerson'],
    anchor: 'entryUUID',
    attributes: ['cn', 'sn', 'displayname', 'mailaddress', 'internetaddress', 'mailsystem', 'uid', 'description'],
  };
  delete config.rules['domino-group-contacts'].exportFlows.mailsystem;
  return config;
}

function expanded(config: Record<string, any>): Record<string, any> {
  const { config: out, problems } = expandGroupModes(config);
  expect(problems).toEqual([]);
  return out as Record<string, any>;
}

function loadProblems(config: unknown): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'dirbridge-groups-')), 'dirbridge.yaml');
  writeFileSync(file, stringify(config));
  try {
    loadConfig(file, { PW: 'x' });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${e.file}: ${p}`);
    throw e;
  }
  return [];
}

describe('groups: address | mirror', () => {
  it('no key leaves the configuration as written', () => {
    const config = quickstart();
    delete config.groups;
    expect(expandGroupModes(config).config).toBe(config);
  });

  it('address keeps the rules, and the writers also read the groups mirror mode made there (to replace them after a switch back)', () => {
    const config = onServers();
    const out = expanded({ ...config, groups: 'address' });
    expect(out.rules).toEqual(config.rules);
    expect(out.agents['ad-group-contacts']).toEqual({
      ...config.agents['ad-group-contacts'],
      filter: '(|(objectClass=group)(objectClass=contact))',
      objectClasses: ['group', 'contact'],
    });
    expect(out.agents['domino-group-contacts']).toMatchObject({
      filter: '(|(objectClass=dominoGroup)(objectClass=dominoPerson))',
      objectClasses: ['dominoGroup', 'dominoPerson'],
    });
    // A group left from mirror mode, until it is replaced, is never taken for one of that side's own.
    expect(out.agents['ad-groups'].attributes).toContain('adminDescription');
    // On files, the classes a file agent picks its records by.
    const files = expanded(quickstart());
    expect(files.agents['ad-group-contacts']).toEqual({ ...quickstart().agents['ad-group-contacts'], objectClasses: ['group', 'contact'] });
    expect(files.rules).toEqual(quickstart().rules);
    // An Exchange Online writer is not touched.
    const cloud = onServers();
    cloud.agents['ad-group-contacts'] = { type: 'exo-contacts', tenantId: 't', clientId: 'c', clientSecret: { env: 'PW' } };
    expect(expanded({ ...cloud, groups: 'address' }).agents['ad-group-contacts']).toEqual(cloud.agents['ad-group-contacts']);
  });

  it('mirror lays out both directions over the shipped agents: members imported as references, groups written with them', () => {
    const out = expanded({ ...onServers(), groups: 'mirror' });
    expect(configSchema.safeParse(out).success).toBe(true);

    expect(out.metaverse.objectTypes.DominoGroup.attributes).toContain('members');
    expect(out.rules['domino-groups'].importFlows.members).toEqual({
      references: 'member',
      resolveIn: ['domino-people', 'domino-contacts', 'domino-groups', 'domino-group-contacts', 'domino-mailins'],
    });
    expect(out.agents['domino-groups'].attributes).toContain('member');
    // AD groups: a universal distribution group, the rule's own DN and stamp, no contact attributes;
    // the contacts of address mode are read too, so that a switch replaces them.
    expect(out.agents['ad-group-contacts']).toMatchObject({
      filter: '(|(objectClass=group)(objectClass=contact))',
      objectClasses: ['group', 'contact'],
      baseDn: 'OU=Domino Groups,DC=acme,DC=example',
    });
    expect(out.agents['ad-group-contacts'].attributes).toEqual([
      'cn',
      'displayName',
      'mail',
      'mailNickname',
      'sAMAccountName',
      'proxyAddresses',
      'legacyExchangeDN',
      'description',
      'groupType',
      'member',
      'adminDescription',
    ]);
    const adRules = out.rules['ad-group-contacts'];
    expect(adRules.provision).toEqual({ dn: 'CN={cn},OU=Domino Groups,DC=acme,DC=example', objectClasses: ['top', 'group'] });
    expect(adRules.ownership).toEqual({ attribute: 'adminDescription', value: 'dirbridge:managed' });
    expect(adRules.exportFlows.groupType).toEqual({ constant: '8' });
    expect(adRules.exportFlows.targetAddress).toBeUndefined();
    expect(adRules.exportFlows.msExchRecipientDisplayType).toBeUndefined();
    expect(adRules.exportFlows.member).toEqual({
      references: 'members',
      resolveIn: ['ad-contacts', 'ad-mailboxes', 'ad-groups', 'ad-group-contacts', 'ad-mailin-contacts'],
    });

    // The other way, and each side's group source reads the stamp of the groups written beside it.
    expect(out.rules['ad-groups'].importFlows.members.resolveIn[0]).toBe('ad-mailboxes');
    expect(out.agents['ad-groups'].attributes).toEqual(expect.arrayContaining(['member', 'adminDescription']));
    expect(out.agents['domino-group-contacts']).toMatchObject({
      filter: '(|(objectClass=dominoGroup)(objectClass=dominoPerson))',
      objectClasses: ['dominoGroup', 'dominoPerson'],
    });
    expect(out.rules['domino-group-contacts'].provision.objectClasses).toEqual(['dominoGroup']);
    expect(out.rules['domino-group-contacts'].exportFlows).toMatchObject({ grouptype: { constant: '1' }, internetaddress: 'mail' });
    expect(out.rules['domino-group-contacts'].exportFlows.sn).toBeUndefined();
  });

  it('one direction at a time: the other keeps its contacts', () => {
    const config = onServers();
    const out = expanded({ ...config, groups: { dominoToExchange: 'mirror' } });
    expect(out.rules['ad-group-contacts'].provision.objectClasses).toEqual(['top', 'group']);
    expect(out.rules['domino-group-contacts']).toEqual(config.rules['domino-group-contacts']);
    expect(out.agents['domino-group-contacts']).toEqual({
      ...config.agents['domino-group-contacts'],
      filter: '(|(objectClass=dominoGroup)(objectClass=dominoPerson))',
      objectClasses: ['dominoGroup', 'dominoPerson'],
    });
    expect(out.rules['ad-groups'].importFlows.members).toBeUndefined();
    // Even so, the Exchange side's group source must not take the mirrored Domino groups for Exchange groups.
    expect(out.agents['ad-groups'].attributes).toContain('adminDescription');
  });

  it('on LDIF files (the quickstart) only the object classes change: a file agent reads every attribute', () => {
    const out = expanded({ ...quickstart(), groups: 'mirror' });
    expect(out.agents['ad-group-contacts']).toEqual({ ...quickstart().agents['ad-group-contacts'], objectClasses: ['group', 'contact'] });
    expect(configSchema.safeParse(out).success).toBe(true);
  });

  it('what stops mirror mode is named with its key and the fix, and nothing runs', () => {
    const file = (problems: string[]): string => problems.join('\n');
    expect(file(loadProblems({ ...onServers(), groups: 'mirrored' }))).toMatch(/dirbridge\.yaml: groups: must be address, mirror, or \{ dominoToExchange/);

    const noTarget = onServers();
    delete noTarget.agents['ad-group-contacts'];
    delete noTarget.rules['ad-group-contacts'];
    expect(file(loadProblems({ ...noTarget, groups: { dominoToExchange: 'mirror' } }))).toMatch(
      /groups\.dominoToExchange: mirror needs an agent named ad-group-contacts \(the one that writes the groups\); write its rules yourself \(docs\/configuration\.md, "Mirrored groups"\) or set groups\.dominoToExchange: address/,
    );

    const cloud = onServers();
    cloud.agents['domino-group-contacts'] = { type: 'ldif', file: 'x.ldif', anchor: 'dominoUNID' };
    cloud.agents['ad-group-contacts'] = { type: 'exo-contacts', tenantId: 't', clientId: 'c', clientSecret: { env: 'PW' } };
    expect(file(loadProblems({ ...cloud, groups: 'mirror' }))).toMatch(
      /groups: mirror writes AD distribution groups, which an agent of type exo-contacts \(ad-group-contacts\) cannot; use ad-ldap or ldif/,
    );

    const unowned = onServers();
    delete unowned.rules['domino-group-contacts'].ownership;
    expect(file(loadProblems({ ...unowned, groups: { exchangeToDomino: 'mirror' } }))).toMatch(
      /groups\.exchangeToDomino: mirror changes only the groups dirbridge made: give rules\.domino-group-contacts\.ownership/,
    );
  });
});
