/**
 * Mirror mode for the tests and the group benchmark: the rules of docs/configuration.md ("Mirrored
 * groups") laid over the quickstart's, the group agents that write groups, and the shipped run
 * profiles with those agents named in place of the group contacts. No vitest here: the benchmark
 * imports it too.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The group agents of mirror mode, by the group-contact agents they stand in for in the shipped profiles. */
export const MIRROR_AGENTS = { 'ad-group-contacts': 'ad-mirror-groups', 'domino-group-contacts': 'domino-mirror-groups' } as const;

/**
 * Mirror mode's rules, as docs/configuration.md gives them: the sources import their groups' members
 * as references, and the group agents write groups with members instead of contacts.
 */
export function mirrorRules(quickstart: Record<string, any>, ous: { adGroupContactsOu: string; dominoGroupContactsOu: string }): void {
  const { rules, metaverse } = quickstart;
  metaverse.objectTypes.DominoGroup.attributes.push('members');
  metaverse.objectTypes.ExchangeGroup.attributes.push('members');
  rules['domino-groups'].importFlows.members = {
    references: 'member',
    resolveIn: ['domino-people', 'domino-contacts', 'domino-groups', 'domino-mirror-groups', 'domino-mailins'],
  };
  rules['ad-groups'].importFlows.members = {
    references: 'member',
    resolveIn: ['ad-mailboxes', 'ad-contacts', 'ad-groups', 'ad-mirror-groups', 'ad-mailin-contacts'],
  };
  delete rules['ad-group-contacts'];
  delete rules['domino-group-contacts'];
  rules['ad-mirror-groups'] = {
    objectType: 'DominoGroup',
    join: [
      { cs: 'mail', mv: 'mail' },
      { cs: 'proxyAddresses', mv: 'mail', transform: 'smtp' },
    ],
    provision: { dn: `CN={cn},${ous.adGroupContactsOu}`, objectClasses: ['top', 'group'] },
    exportFlows: {
      cn: 'cn',
      displayName: 'displayName',
      mail: 'mail',
      mailNickname: 'mailNickname',
      sAMAccountName: 'mailNickname',
      proxyAddresses: { template: 'SMTP:{mail}' },
      description: 'description',
      // A universal distribution group: no security bit.
      groupType: { constant: '8' },
      member: { references: 'members', resolveIn: ['ad-contacts', 'ad-mailboxes', 'ad-groups', 'ad-mirror-groups', 'ad-mailin-contacts'] },
    },
    ownership: { attribute: 'adminDescription', value: 'dirbridge:managed' },
  };
  rules['domino-mirror-groups'] = {
    objectType: 'ExchangeGroup',
    join: [{ cs: 'internetaddress', mv: 'mail' }],
    provision: { dn: `cn={cn},${ous.dominoGroupContactsOu}`, objectClasses: ['dominoGroup'] },
    exportFlows: {
      cn: 'cn',
      displayname: 'displayName',
      internetaddress: 'mail',
      // Mail only.
      grouptype: { constant: '1' },
      member: { references: 'members', resolveIn: ['domino-people', 'domino-contacts', 'domino-groups', 'domino-mirror-groups', 'domino-mailins'] },
    },
    ownership: { attribute: 'description', value: 'dirbridge:managed' },
  };
}

export function mirrorAgents(agents: Record<string, any>): void {
  agents['domino-groups'].attributes.push('member');
  // The groups dirbridge writes stand beside the ones it reads: the sources read the ownership stamp, so
  // that a mirrored group never comes back as a group of the other side.
  agents['ad-groups'].attributes.push('member', 'adminDescription');
  agents['domino-groups'].filter = '(&(objectClass=dominoGroup)(dominoUNID=*))';
  // Small ranges, so that the tests' groups are read in several (AD's MaxValRange is 1,500).
  agents['ad-groups'].rangeSize = 400;
  agents['ad-mirror-groups'] = {
    ...agents['ad-group-contacts'],
    filter: '(objectClass=group)',
    objectClasses: ['group'],
    attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'sAMAccountName', 'proxyAddresses', 'description', 'groupType', 'member', 'adminDescription'],
    rangeSize: 400,
    valueBatchSize: 300,
  };
  agents['domino-mirror-groups'] = {
    ...agents['domino-group-contacts'],
    filter: '(objectClass=dominoGroup)',
    objectClasses: ['dominoGroup'],
    attributes: ['cn', 'displayname', 'internetaddress', 'grouptype', 'member', 'description'],
    valueBatchSize: 300,
  };
  delete agents['ad-group-contacts'];
  delete agents['domino-group-contacts'];
}

/** The shipped run profiles with the mirror agents named in place of the group-contact agents. */
export function mirrorProfiles(dir: string): string {
  const out = join(dir, 'run-profiles');
  mkdirSync(out);
  for (const f of readdirSync(join(ROOT, 'run-profiles'))) {
    let text = readFileSync(join(ROOT, 'run-profiles', f), 'utf8');
    for (const [from, to] of Object.entries(MIRROR_AGENTS)) text = text.replaceAll(`agent: ${from},`, `agent: ${to},`);
    writeFileSync(join(out, f), text);
  }
  return out;
}
