/**
 * The Exchange Online deployment for one test file: Domino people and contacts in a private slapd,
 * Exchange Online (Graph and the admin endpoint) in a local HTTPS server, and the rules of the shipped
 * examples/exchange-online configuration, with only the addresses changed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'ldapts';
import { parse, stringify } from 'yaml';
import { dominoPersonAdder, runners, watermarkReader, type Deployment, type RunReportJson } from './coexistence.js';
import { startFakeMicrosoft, type FakeMicrosoft } from './graph-server.js';
import { startSlapd, type Slapd } from './slapd.js';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface ExoDeployment extends Pick<Deployment, 'watermark' | 'addDominoPerson' | 'dir' | 'configFile' | 'env'> {
  /**
   * Runs the CLI in the background: the local Microsoft server lives in the test's process and must
   * keep answering while dirbridge runs.
   */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; report?: RunReportJson }>;
  slapd: Slapd;
  cloud: FakeMicrosoft;
  dominoPeopleOu: string;
  dominoContactsOu: string;
  dominoGroupContactsOu: string;
  /** The Domino contacts of Exchange Online groups (cn and forwarding address), read from slapd. */
  dominoGroupContacts(): Promise<{ cn: string; mailaddress: string }[]>;
  /** The Domino contacts (cn and forwarding address), read from slapd. */
  dominoContacts(base?: string): Promise<{ cn: string; mailaddress: string; title?: string }[]>;
  stop(): Promise<void>;
}

export async function deployExchangeOnline(
  options: { safety?: Record<string, unknown>; pageSize?: number; credential?: 'secret' | 'certificate' } = {},
): Promise<ExoDeployment> {
  const slapd = await startSlapd();
  const cloud = await startFakeMicrosoft({ pageSize: options.pageSize ?? 3 });
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-exo-'));
  const dominoPeopleOu = `ou=People,${slapd.suffix}`;
  const dominoContactsOu = `ou=Exchange Contacts,${slapd.suffix}`;
  const dominoGroupContactsOu = `ou=Exchange Groups,${slapd.suffix}`;
  slapd.add(
    `dn: ${dominoPeopleOu}\nobjectClass: organizationalUnit\nou: People\n\ndn: ${dominoContactsOu}\nobjectClass: organizationalUnit\nou: Exchange Contacts\n` +
      `\ndn: ${dominoGroupContactsOu}\nobjectClass: organizationalUnit\nou: Exchange Groups\n`,
  );

  const config = parse(readFileSync(join(ROOT, 'examples/exchange-online/dirbridge.yaml'), 'utf8')) as Record<string, any>;
  config.metaverse.file = join(dir, 'metaverse.db');
  config.runProfiles = join(ROOT, 'examples/exchange-online/run-profiles');
  if (options.safety) config.safety = options.safety;
  const domino = { url: slapd.url, bindDn: slapd.rootDn, tls: undefined };
  Object.assign(config.agents['domino-people'], domino, { baseDn: dominoPeopleOu });
  // slapd cannot mint Domino UNIDs for new documents; entryUUID plays that part for the contacts.
  Object.assign(config.agents['domino-contacts'], domino, { baseDn: dominoContactsOu, anchor: 'entryUUID' });
  const entra = { tenantId: cloud.tenantId, clientId: cloud.clientId, authorityHost: cloud.origin };
  Object.assign(config.agents['exo-mailboxes'], entra, { graphUrl: cloud.origin });
  Object.assign(config.agents['exo-groups'], entra, { graphUrl: cloud.origin });
  Object.assign(config.agents['domino-group-contacts'], domino, { baseDn: dominoGroupContactsOu, anchor: 'entryUUID' });
  config.rules['domino-group-contacts'].provision.dn = `cn={cn},${dominoGroupContactsOu}`;
  Object.assign(config.agents['exo-contacts'], entra, { adminUrl: cloud.origin });
  config.rules['domino-contacts'].provision.dn = `cn={cn},${dominoContactsOu}`;
  for (const a of Object.values(config.agents) as { tls?: unknown }[]) if (a.tls === undefined) delete a.tls;
  const configFile = join(dir, 'dirbridge.yaml');
  writeFileSync(configFile, stringify(config));
  // The server's certificate comes from a throwaway CA: Node trusts it through NODE_EXTRA_CA_CERTS,
  // as an administrator behind a TLS-inspecting proxy would do; verification stays on.
  const env = { ...process.env, DOMINO_PW: slapd.password, ENTRA_SECRET: cloud.clientSecret, NODE_EXTRA_CA_CERTS: cloud.caFile, DIRBRIDGE_LOG_LEVEL: 'silent' };

  async function readContacts(base = dominoContactsOu): Promise<{ cn: string; mailaddress: string; title?: string }[]> {
    const c = new Client({ url: slapd.url });
    await c.bind(slapd.rootDn, slapd.password);
    try {
      const { searchEntries } = await c.search(base, {
        scope: 'one',
        filter: '(objectClass=dominoPerson)',
        attributes: ['cn', 'mailaddress', 'title'],
      });
      return searchEntries
        .map((e) => ({ cn: String(e.cn), mailaddress: String(e.mailaddress), ...(e.title ? { title: String(e.title) } : {}) }))
        .sort((a, b) => a.cn.localeCompare(b.cn));
    } finally {
      await c.unbind();
    }
  }

  return {
    dir,
    configFile,
    env,
    slapd,
    cloud,
    dominoPeopleOu,
    dominoContactsOu,
    dominoGroupContactsOu,
    async cli(args) {
      const r = await runners(configFile, env).cliAsync(args);
      return args.includes('--json') && r.stdout.trim().startsWith('{') ? { ...r, report: JSON.parse(r.stdout) as RunReportJson } : r;
    },
    watermark: watermarkReader(dir),
    addDominoPerson: dominoPersonAdder(slapd, dominoPeopleOu),
    dominoContacts: readContacts,
    dominoGroupContacts: async () => (await readContacts(dominoGroupContactsOu)).map(({ cn, mailaddress }) => ({ cn, mailaddress })),
    async stop() {
      await cloud.stop();
      await slapd.stop();
    },
  };
}
