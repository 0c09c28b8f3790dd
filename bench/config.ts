/** The benchmark's dirbridge configuration: the quickstart's rules over the two slapd directories. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Slapd } from '../test/integration/harness/slapd.js';
import {
  AD_CONTACTS,
  AD_GROUP_CONTACTS,
  AD_MAILIN_CONTACTS,
  AD_MAILBOXES,
  DOMINO_CONTACTS,
  DOMINO_GROUP_CONTACTS,
  DOMINO_PEOPLE,
  DOMINO_SUFFIX,
} from './data.js';

const ROOT = resolve(import.meta.dirname, '..');
/** dirbridge's default export concurrency for LDAP agents, which the raw ldapadd measurement matches. */
export const EXPORT_CONCURRENCY = 4;
export const PAGE_SIZE = 1000;

/** Writes dir/dirbridge.yaml (the store in dir) and puts the two passwords in the environment it names. */
export function writeConfig(dir: string, domino: Slapd, ad: Slapd): string {
  const quickstart = parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;
  const rules = quickstart.rules;
  rules['ad-contacts'].provision.dn = `cn={cn},${AD_CONTACTS}`;
  rules['domino-contacts'].provision.dn = `cn={cn},${DOMINO_CONTACTS}`;
  rules['ad-group-contacts'].provision.dn = `cn={cn},${AD_GROUP_CONTACTS}`;
  rules['ad-mailin-contacts'].provision.dn = `cn={cn},${AD_MAILIN_CONTACTS}`;
  rules['domino-group-contacts'].provision.dn = `cn={cn},${DOMINO_GROUP_CONTACTS}`;
  delete rules['domino-contacts'].exportFlows.mailsystem; // the domino-ldap agent writes MailSystem itself
  delete rules['domino-group-contacts'].exportFlows.mailsystem;
  const dominoAttrs = ['cn', 'givenname', 'sn', 'uid', 'internetaddress', 'mailaddress', 'mailsystem', 'title', 'telephonenumber', 'description'];
  const adAttrs = ['cn', 'displayName', 'givenName', 'sn', 'mail', 'mailNickname', 'proxyAddresses', 'title', 'telephoneNumber'];
  // slapd's access log stands in for each side's change stream. Domino has none: its agents also run
  // the deletion check that Domino's timestamp strategy runs, so every delta cycle pays for it.
  const common = (s: Slapd, pw: string) => ({
    url: s.url,
    bindDn: s.rootDn,
    password: { env: pw },
    delta: { strategy: 'accesslog', ...(s === domino ? { deletions: 'sweep' } : {}) },
    pageSize: PAGE_SIZE,
    exportConcurrency: EXPORT_CONCURRENCY,
  });
  const config = {
    metaverse: { ...quickstart.metaverse, file: join(dir, 'metaverse.db') },
    runProfiles: join(ROOT, 'run-profiles'),
    agents: {
      'domino-people': {
        type: 'domino-ldap',
        ...common(domino, 'DOMINO_PW'),
        baseDn: DOMINO_PEOPLE,
        filter: '(&(objectClass=dominoPerson)(!(mailsystem=5)))',
        objectClasses: ['dominoPerson'],
        anchor: 'dominoUNID',
        attributes: dominoAttrs,
      },
      'domino-contacts': {
        type: 'domino-ldap',
        ...common(domino, 'DOMINO_PW'),
        baseDn: DOMINO_CONTACTS,
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        anchor: 'entryUUID',
        attributes: dominoAttrs,
      },
      'ad-mailboxes': {
        type: 'ad-ldap',
        ...common(ad, 'AD_PW'),
        baseDn: AD_MAILBOXES,
        filter: '(objectClass=user)',
        objectClasses: ['user'],
        anchor: 'entryUUID',
        binaryAttributes: [],
        attributes: [...adAttrs, 'homeMDB', 'msExchRecipientTypeDetails'],
      },
      'ad-contacts': {
        type: 'ad-ldap',
        ...common(ad, 'AD_PW'),
        baseDn: AD_CONTACTS,
        filter: '(objectClass=contact)',
        objectClasses: ['contact'],
        anchor: 'entryUUID',
        binaryAttributes: [],
        attributes: [...adAttrs, 'targetAddress', 'adminDescription', 'legacyExchangeDN'],
      },
      // The shipped profiles carry groups and mail-in databases too; this benchmark has none, so these steps find nothing.
      'domino-groups': {
        type: 'domino-ldap',
        ...common(domino, 'DOMINO_PW'),
        baseDn: DOMINO_SUFFIX,
        filter: '(objectClass=dominoGroup)',
        objectClasses: ['dominoGroup'],
        anchor: 'dominoUNID',
        attributes: ['cn', 'displayname', 'internetaddress', 'grouptype', 'description'],
      },
      'domino-mailins': {
        type: 'domino-ldap',
        ...common(domino, 'DOMINO_PW'),
        baseDn: DOMINO_SUFFIX,
        filter: '(objectClass=dominoServerMailInDatabase)',
        objectClasses: ['dominoServerMailInDatabase'],
        anchor: 'dominoUNID',
        attributes: ['cn', 'displayname', 'internetaddress', 'resourcetype', 'description'],
      },
      'ad-mailin-contacts': {
        type: 'ad-ldap',
        ...common(ad, 'AD_PW'),
        baseDn: AD_MAILIN_CONTACTS,
        filter: '(objectClass=contact)',
        objectClasses: ['contact'],
        anchor: 'entryUUID',
        binaryAttributes: [],
        attributes: [...adAttrs, 'targetAddress', 'adminDescription', 'description', 'legacyExchangeDN'],
      },
      'domino-group-contacts': {
        type: 'domino-ldap',
        ...common(domino, 'DOMINO_PW'),
        baseDn: DOMINO_GROUP_CONTACTS,
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        anchor: 'entryUUID',
        attributes: [...dominoAttrs, 'displayname'],
      },
      'ad-groups': {
        type: 'ad-ldap',
        ...common(ad, 'AD_PW'),
        baseDn: AD_MAILBOXES,
        filter: '(objectClass=groupOfNames)',
        objectClasses: ['groupOfNames'],
        anchor: 'entryUUID',
        binaryAttributes: [],
        attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'proxyAddresses', 'description'],
      },
      'ad-group-contacts': {
        type: 'ad-ldap',
        ...common(ad, 'AD_PW'),
        baseDn: AD_GROUP_CONTACTS,
        filter: '(objectClass=contact)',
        objectClasses: ['contact'],
        anchor: 'entryUUID',
        binaryAttributes: [],
        attributes: [...adAttrs, 'targetAddress', 'adminDescription', 'description', 'msExchRecipientDisplayType', 'legacyExchangeDN'],
      },
    },
    rules,
  };
  const file = join(dir, 'dirbridge.yaml');
  writeFileSync(file, stringify(config));
  process.env.DOMINO_PW = domino.password;
  process.env.AD_PW = ad.password;
  return file;
}
