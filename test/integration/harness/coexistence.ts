/**
 * A coexistence deployment for one test file: Domino people and contacts in a private slapd, AD
 * mailboxes and contacts in their own OUs of the shared Samba DC, and the rules of the shipped
 * quickstart configuration (so the tests exercise the rules an administrator starts from).
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { Attribute, Change, Client } from 'ldapts';
import { escapeDnValue } from '../../../src/util/dn.js';
import { run } from './process.js';
import type { SambaInfo } from './samba.js';
import { inject } from 'vitest';
import { startSlapd, type Slapd } from './slapd.js';
import { mirrorGroups } from './mirror.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface Deployment {
  dir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  adPeopleOu: string;
  adContactsOu: string;
  dominoPeopleOu: string;
  dominoContactsOu: string;
  /** Where the tests' Domino Group documents and AD groups are, and where their contacts are written. */
  dominoGroupsOu: string;
  adGroupsOu: string;
  adGroupContactsOu: string;
  dominoGroupContactsOu: string;
  /** Where the tests' Mail-In Database and Resource documents are, and where their AD contacts are written. */
  dominoMailInOu: string;
  adMailInContactsOu: string;
  /** Outside every agent's base: where a test moves people out of scope. */
  dominoAwayOu: string;
  adAwayOu: string;
  /** Runs the CLI; returns exit code, parsed --json report (when asked) and output. */
  cli(args: string[]): { code: number; stdout: string; stderr: string; report?: RunReportJson };
  /** Adds a person to the Domino people OU; `extra` attributes are written as raw bytes (any value a directory may hold). */
  addDominoPerson(p: { given: string; sn: string; mail?: string; unid?: string; extra?: Record<string, string | Buffer> }): string;
  addAdMailbox(p: { given: string; sn: string; mail: string; nickname?: string }): Promise<string>;
  /** A Domino Group document (GroupType 1, Mail only, unless given); returns its DN. */
  addDominoGroup(g: { cn: string; mail?: string; groupType?: string; members?: string[] }): string;
  /** A Mail-In Database document, or a Resource when `resourceType` is given (1: a room); returns its DN. */
  addDominoMailIn(m: { cn: string; mail?: string; resourceType?: string }): string;
  /** An AD group: a universal distribution group with mail, or a security group (with mail only if given). */
  addAdGroup(g: { cn: string; mail?: string; security?: boolean; members?: string[] }): Promise<string>;
  adSearch(base: string, filter: string, attributes?: string[]): Promise<Record<string, unknown>[]>;
  adDelete(dn: string): Promise<void>;
  adAdd(dn: string, attrs: Record<string, string | string[]>): Promise<void>;
  adModify(dn: string, replace: Record<string, string | string[]>): Promise<void>;
  adMove(dn: string, newDn: string): Promise<void>;
  /** The agent's stored watermark, read from the metaverse (undefined when none). */
  watermark(agent: string): string | undefined;
  /** Runs the CLI in the background (for changes made while a cycle runs). */
  cliAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface RunReportJson {
  runId: number;
  status: string;
  steps: {
    agent: string;
    type: string;
    status: string;
    message?: string;
    stats: Record<string, number>;
    problems: { severity: string; object: string; attribute?: string; code: string; message: string }[];
  }[];
  /** The people who moved in the run (migration). */
  moves: { person: string; mailbox: string; entry: string; contactsDeleted: string[]; x500: string[]; x500Written: boolean }[];
}

export interface DeployOptions {
  /** Delta strategies of the Domino-side and AD-side agents (the agent types' defaults otherwise). */
  dominoDelta?: 'timestamp' | 'accesslog';
  adDelta?: 'dirsync' | 'usn';
  /** Import Domino people from ou=People only (instead of the whole directory), so a move can leave the view. */
  dominoPeopleOnly?: boolean;
  /** Another URL for an agent (a fault proxy in front of its server). */
  urls?: Record<string, string>;
  /** The config's safety section (guards set low enough for a handful of test objects). */
  safety?: Record<string, unknown>;
  /** More delta settings for domino-people (its deletion check: deletions, sweepEveryMinutes). */
  dominoPeopleDelta?: Record<string, unknown>;
  /** Settings laid over the quickstart's migration section (writeX500, movedWhen, match). */
  migration?: Record<string, unknown>;
  /** Changes to the quickstart's rules before they are written (another routing design). */
  editRules?: (rules: Record<string, any>) => void;
  /**
   * Mirrored groups in both directions (`groups: mirror`): Domino groups become AD distribution groups
   * and Exchange groups become Domino Group documents, with their members, written by the agents that
   * would otherwise write the group contacts (ad-group-contacts, domino-group-contacts).
   */
  mirrorGroups?: boolean;
}

/** A private slapd and a deployment on the Samba DC the global setup started: one test file's world. */
export async function deployWithSlapd(options: DeployOptions = {}): Promise<{ slapd: Slapd; d: Deployment }> {
  const samba = inject('samba');
  if (!samba) throw new Error('the Samba AD domain controller was not started by the global setup');
  const slapd = await startSlapd();
  return { slapd, d: await deploy(slapd, samba, options) };
}

export async function deploy(slapd: Slapd, samba: SambaInfo, options: DeployOptions = {}): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-e2e-'));
  const tag = randomBytes(3).toString('hex');
  const adRoot = `OU=t-${tag},${samba.baseDn}`;
  const adPeopleOu = `OU=Mailboxes,${adRoot}`;
  const adContactsOu = `OU=Domino Contacts,${adRoot}`;
  const dominoPeopleOu = `ou=People,${slapd.suffix}`;
  const dominoContactsOu = `ou=Exchange Contacts,${slapd.suffix}`;
  const dominoAwayOu = `ou=Departed,${slapd.suffix}`;
  const adAwayOu = `OU=t-${tag}-away,${samba.baseDn}`;
  const dominoGroupsOu = `ou=Groups,${slapd.suffix}`;
  const dominoGroupContactsOu = `ou=Exchange Groups,${slapd.suffix}`;
  const adGroupsOu = `OU=Groups,${adRoot}`;
  const adGroupContactsOu = `OU=Domino Groups,${adRoot}`;
  const dominoMailInOu = `ou=Mail-In,${slapd.suffix}`;
  const adMailInContactsOu = `OU=Domino Mail-In,${adRoot}`;

  slapd.add(
    `dn: ${dominoPeopleOu}\nobjectClass: organizationalUnit\nou: People\n\ndn: ${dominoContactsOu}\nobjectClass: organizationalUnit\nou: Exchange Contacts\n\ndn: ${dominoAwayOu}\nobjectClass: organizationalUnit\nou: Departed\n` +
      `\ndn: ${dominoGroupsOu}\nobjectClass: organizationalUnit\nou: Groups\n\ndn: ${dominoGroupContactsOu}\nobjectClass: organizationalUnit\nou: Exchange Groups\n` +
      `\ndn: ${dominoMailInOu}\nobjectClass: organizationalUnit\nou: Mail-In\n`,
  );
  const adAuth = ['-x', '-H', samba.url, '-D', samba.bindDn, '-w', samba.password];
  run(
    'ldapadd',
    adAuth,
    [adRoot, adPeopleOu, adContactsOu, adAwayOu, adGroupsOu, adGroupContactsOu, adMailInContactsOu]
      .map((dn) => `dn: ${dn}\nobjectClass: organizationalUnit\n`)
      .join('\n'),
  );

  const quickstart = parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;
  const rules = quickstart.rules;
  rules['ad-contacts'].provision.dn = `CN={cn},${adContactsOu}`;
  rules['domino-contacts'].provision.dn = `cn={cn},${dominoContactsOu}`;
  rules['ad-group-contacts'].provision.dn = `CN={cn},${adGroupContactsOu}`;
  rules['domino-group-contacts'].provision.dn = `cn={cn},${dominoGroupContactsOu}`;
  rules['ad-mailin-contacts'].provision.dn = `CN={cn},${adMailInContactsOu}`;
  // On a Domino agent the agent itself writes MailSystem (contactMailSystem); the file example needed a flow.
  delete rules['domino-contacts'].exportFlows.mailsystem;
  delete rules['domino-group-contacts'].exportFlows.mailsystem;
  options.editRules?.(rules);

  // Every agent of a side talks to the same server with the same account.
  const dominoServer = { type: 'domino-ldap', url: slapd.url, bindDn: slapd.rootDn, password: { env: 'DOMINO_PW' } };
  const adServer = { type: 'ad-ldap', url: samba.url, bindDn: samba.bindDn, password: { env: 'AD_PW' } };
  const dominoAttrs = ['cn', 'givenname', 'sn', 'uid', 'internetaddress', 'mailaddress', 'mailsystem', 'title', 'telephonenumber', 'description'];
  const config = {
    metaverse: { ...quickstart.metaverse, file: join(dir, 'metaverse.db') },
    runProfiles: join(ROOT, 'run-profiles'),
    ...(options.safety ? { safety: options.safety } : {}),
    ...(quickstart.migration ? { migration: { ...quickstart.migration, ...options.migration } } : {}),
    agents: {
      // The whole directory, dirbridge's own contacts included: the server-side filter leaves out contacts
      // (MailSystem 5), as an administrator would configure it; the rules' scope is the second line.
      'domino-people': {
        ...dominoServer,
        baseDn: options.dominoPeopleOnly ? dominoPeopleOu : slapd.suffix,
        ...delta(options.dominoDelta, options.dominoPeopleDelta),
        filter: '(&(objectClass=dominoPerson)(!(mailsystem=5)))',
        objectClasses: ['dominoPerson'],
        anchor: 'dominoUNID',
        attributes: dominoAttrs,
        pageSize: 7,
      },
      'ad-mailboxes': {
        ...adServer,
        baseDn: adRoot,
        ...delta(options.adDelta),
        filter: '(objectClass=user)',
        objectClasses: ['user'],
        attributes: [
          'cn',
          'displayName',
          'givenName',
          'sn',
          'mail',
          'mailNickname',
          'proxyAddresses',
          'homeMDB',
          'msExchMailboxGuid',
          'msExchRecipientTypeDetails',
          'title',
          'telephoneNumber',
        ],
        pageSize: 5,
      },
      'ad-contacts': {
        ...adServer,
        baseDn: adContactsOu,
        ...delta(options.adDelta),
        filter: '(objectClass=contact)',
        objectClasses: ['contact'],
        attributes: [
          'cn',
          'displayName',
          'givenName',
          'sn',
          'mail',
          'mailNickname',
          'targetAddress',
          'proxyAddresses',
          'legacyExchangeDN',
          'title',
          'telephoneNumber',
          'adminDescription',
        ],
      },
      // slapd cannot mint Domino UNIDs for new documents; entryUUID plays that part for the contacts.
      'domino-contacts': {
        ...dominoServer,
        baseDn: dominoContactsOu,
        ...delta(options.dominoDelta),
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        anchor: 'entryUUID',
        attributes: dominoAttrs,
      },
      'domino-groups': {
        ...dominoServer,
        baseDn: slapd.suffix,
        ...delta(options.dominoDelta),
        filter: '(objectClass=dominoGroup)',
        objectClasses: ['dominoGroup'],
        anchor: 'dominoUNID',
        attributes: ['cn', 'displayname', 'internetaddress', 'grouptype', 'description'],
      },
      'domino-mailins': {
        ...dominoServer,
        baseDn: slapd.suffix,
        ...delta(options.dominoDelta),
        filter: '(objectClass=dominoServerMailInDatabase)',
        objectClasses: ['dominoServerMailInDatabase'],
        anchor: 'dominoUNID',
        attributes: ['cn', 'displayname', 'internetaddress', 'resourcetype', 'description'],
      },
      'ad-mailin-contacts': {
        ...adServer,
        baseDn: adMailInContactsOu,
        ...delta(options.adDelta),
        filter: '(objectClass=contact)',
        objectClasses: ['contact'],
        attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'targetAddress', 'proxyAddresses', 'legacyExchangeDN', 'description', 'adminDescription'],
      },
      'ad-groups': {
        ...adServer,
        baseDn: adRoot,
        ...delta(options.adDelta),
        filter: '(objectClass=group)',
        objectClasses: ['group'],
        attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'proxyAddresses', 'description', 'groupType'],
      },
      'ad-group-contacts': {
        ...adServer,
        baseDn: adGroupContactsOu,
        ...delta(options.adDelta),
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
      },
      'domino-group-contacts': {
        ...dominoServer,
        baseDn: dominoGroupContactsOu,
        ...delta(options.dominoDelta),
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        anchor: 'entryUUID',
        attributes: [...dominoAttrs, 'displayname'],
      },
    },
    rules,
  };
  if (options.mirrorGroups) mirrorGroups(config, { smallRanges: true });
  for (const [agent, url] of Object.entries(options.urls ?? {})) (config.agents as Record<string, { url: string }>)[agent]!.url = url;
  const configFile = join(dir, 'dirbridge.yaml');
  writeFileSync(configFile, stringify(config));
  // No logs on stderr: the tests read the reports on stdout, and anything on stderr is a failure to see
  // (the logs themselves are tested with a log file and with the scheduler).
  const env = { ...process.env, DOMINO_PW: slapd.password, AD_PW: samba.password, DIRBRIDGE_LOG_LEVEL: 'silent' };

  const withAd = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: samba.url });
    await c.bind(samba.bindDn, samba.password);
    try {
      return await fn(c);
    } finally {
      await c.unbind();
    }
  };

  return {
    dir,
    configFile,
    env,
    adPeopleOu,
    adContactsOu,
    dominoPeopleOu,
    dominoContactsOu,
    dominoAwayOu,
    adAwayOu,
    dominoGroupsOu,
    adGroupsOu,
    adGroupContactsOu,
    dominoGroupContactsOu,
    dominoMailInOu,
    adMailInContactsOu,
    ...runners(configFile, env),
    addDominoPerson: dominoPersonAdder(slapd, dominoPeopleOu),
    addDominoGroup({ cn, mail, groupType = '1', members = [] }) {
      const dn = `cn=${escapeDnValue(cn)},${dominoGroupsOu}`;
      const b64 = (k: string, v: string): string => `${k}:: ${Buffer.from(v).toString('base64')}`;
      slapd.add(
        [
          b64('dn', dn),
          'objectClass: dominoGroup',
          b64('cn', cn),
          `dominoUNID: ${randomBytes(16).toString('hex').toUpperCase()}`,
          `grouptype: ${groupType}`,
          ...(mail ? [b64('internetaddress', mail)] : []),
          ...members.map((m) => b64('member', m)),
          '',
        ].join('\n'),
      );
      return dn;
    },
    addDominoMailIn({ cn, mail, resourceType }) {
      const dn = `cn=${escapeDnValue(cn)},${dominoMailInOu}`;
      const b64 = (k: string, v: string): string => `${k}:: ${Buffer.from(v).toString('base64')}`;
      slapd.add(
        [
          b64('dn', dn),
          'objectClass: dominoServerMailInDatabase',
          b64('cn', cn),
          `dominoUNID: ${randomBytes(16).toString('hex').toUpperCase()}`,
          'mailfile: mail/mailin.nsf',
          ...(mail ? [b64('internetaddress', mail)] : []),
          ...(resourceType ? [`resourcetype: ${resourceType}`] : []),
          '',
        ].join('\n'),
      );
      return dn;
    },
    async addAdGroup({ cn, mail, security = false, members = [] }) {
      const dn = `CN=${escapeDnValue(cn)},${adGroupsOu}`;
      await withAd((c) =>
        c.add(dn, {
          objectClass: ['top', 'group'],
          sAMAccountName: `g${randomBytes(6).toString('hex')}`,
          // Universal: distribution 8, security 0x80000008.
          groupType: security ? '-2147483640' : '8',
          ...(mail ? { mail, mailNickname: mail.split('@')[0]!, proxyAddresses: [`SMTP:${mail}`] } : {}),
          ...(members.length ? { member: members } : {}),
        }),
      );
      return dn;
    },
    async addAdMailbox({ given, sn, mail, nickname }) {
      const cn = `${given} ${sn}`;
      const dn = `CN=${escapeDnValue(cn)},${adPeopleOu}`;
      await withAd((c) =>
        c.add(dn, {
          objectClass: ['top', 'person', 'organizationalPerson', 'user'],
          sAMAccountName: `u${randomBytes(6).toString('hex')}`,
          givenName: given,
          sn,
          displayName: cn,
          mail,
          mailNickname: nickname ?? mail.split('@')[0]!,
          proxyAddresses: [`SMTP:${mail}`],
          homeMDB: samba.mailboxDatabaseDn,
          msExchRecipientTypeDetails: '1',
        }),
      );
      return dn;
    },
    adSearch: (base, filter, attributes = ['*']) =>
      withAd(
        async (c) =>
          (await c.search(base, { scope: 'sub', filter, attributes, explicitBufferAttributes: ['objectGUID'] })).searchEntries as Record<string, unknown>[],
      ),
    adDelete: (dn) => withAd((c) => c.del(dn)),
    adModify: (dn, replace) =>
      withAd((c) =>
        c.modify(
          dn,
          Object.entries(replace).map(
            ([type, v]) => new Change({ operation: 'replace', modification: new Attribute({ type, values: Array.isArray(v) ? v : [v] }) }),
          ),
        ),
      ),
    adMove: (dn, newDn) => withAd((c) => c.modifyDN(dn, newDn)),
    watermark: watermarkReader(dir),
    adAdd: (dn, attrs) => withAd((c) => c.add(dn, attrs)),
  };
}

/** A shipped run profile's steps as "agent type" (what a run's report lists when the engine adds none). */
export function shippedSteps(profile: string): string[] {
  const { steps } = parse(readFileSync(join(ROOT, 'run-profiles', `${profile}.yaml`), 'utf8')) as { steps: { agent: string; type: string }[] };
  return steps.map((s) => `${s.agent} ${s.type}`);
}

/** The CLI against one config file, in the foreground (with the --json report parsed) or the background. */
export function runners(configFile: string, env: NodeJS.ProcessEnv): Pick<Deployment, 'cli' | 'cliAsync'> {
  return {
    cli(args) {
      const r = spawnSync(process.execPath, [CLI, '--config', configFile, ...args], { env, encoding: 'utf8' });
      const out = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
      return args.includes('--json') && r.stdout.trim().startsWith('{') ? { ...out, report: JSON.parse(r.stdout) as RunReportJson } : out;
    },
    cliAsync: (args) =>
      new Promise((done) => {
        const child = spawn(process.execPath, [CLI, '--config', configFile, ...args], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
      }),
  };
}

export function watermarkReader(dir: string): Deployment['watermark'] {
  return (agent) => {
    const db = new Database(join(dir, 'metaverse.db'), { readonly: true });
    try {
      return db.prepare('SELECT value FROM watermark WHERE agent = ?').pluck().get(agent) as string | undefined;
    } finally {
      db.close();
    }
  };
}

export function dominoPersonAdder(slapd: Slapd, ou: string): Deployment['addDominoPerson'] {
  return ({ given, sn, mail, unid, extra = {} }) => {
    const cn = `${given} ${sn}`;
    const dn = `cn=${escapeDnValue(cn)},${ou}`;
    const b64 = (k: string, v: string | Buffer): string => `${k}:: ${Buffer.from(v).toString('base64')}`;
    slapd.add(
      [
        b64('dn', dn),
        'objectClass: dominoPerson',
        b64('cn', cn),
        b64('givenName', given),
        b64('sn', sn),
        `dominoUNID: ${unid ?? randomBytes(16).toString('hex').toUpperCase()}`,
        'mailsystem: 1',
        ...(mail ? [b64('internetaddress', mail)] : []),
        ...Object.entries(extra).map(([k, v]) => b64(k, v)),
        '',
      ].join('\n'),
    );
    return dn;
  };
}

function delta(strategy: string | undefined, more: Record<string, unknown> = {}): { delta?: Record<string, unknown> } {
  const settings = { ...(strategy ? { strategy } : {}), ...more };
  return Object.keys(settings).length ? { delta: settings } : {};
}
