/**
 * A private OpenLDAP server on loopback with a Domino-shaped schema. Started per test file, from its
 * own folder and port; it needs no system service. A test that cannot start it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, run, waitForPort } from './process.js';

export interface Slapd {
  url: string;
  ldapsUrl: string;
  suffix: string;
  rootDn: string;
  password: string;
  caFile: string;
  dir: string;
  /** ldapmodify with the root DN; LDIF may hold change records. */
  modify(ldif: string): void;
  add(ldif: string): void;
  search(base: string, filter?: string, attrs?: string[]): string;
  stop(): Promise<void>;
}

const FIXTURES = resolve(import.meta.dirname, '../fixtures');

export interface SlapdOptions {
  suffix?: string;
  /** Schema files besides core, cosine, inetorgperson and the Domino test schema. */
  schemas?: string[];
  /** An LDIF file loaded with slapadd before the server starts (it must hold the suffix entry). */
  seed?: string;
  /** The databases' map size in bytes (large directories need more than the default 100 MiB). */
  maxSize?: number;
  /** The admin's size limit on the access log (unlimited unless given), to test a server that stops answers short. */
  logSizeLimit?: number;
  /**
   * Bind accounts besides the admin (cn=NAME under the suffix, with the admin's password), each with
   * its slapd `limits` on the directory (e.g. "size=5"): a server that cuts answers short for them.
   */
  readers?: { name: string; limits: string }[];
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const suffix = options.suffix ?? 'o=Acme';
  const maxSize = options.maxSize ?? 104_857_600;
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-slapd-'));
  const db = join(dir, 'db');
  const logDb = join(dir, 'accesslog');
  mkdirSync(db);
  mkdirSync(logDb);
  const password = 'slapd-test-secret';
  const rootDn = `cn=admin,${suffix}`;
  const tls = makeCertificates(dir);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `include ${join(FIXTURES, 'domino.schema')}`,
      ...(options.schemas ?? []).map((f) => `include ${resolve(f)}`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload accesslog',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `TLSCACertificateFile ${tls.ca}`,
      `TLSCertificateFile ${tls.cert}`,
      `TLSCertificateKeyFile ${tls.key}`,
      // The change log the accesslog delta strategy reads (slapo-accesslog), readable by the admin only.
      'database mdb',
      `maxsize ${maxSize}`,
      'suffix "cn=accesslog"',
      `directory ${logDb}`,
      'index reqStart eq',
      `access to * by dn.exact="${rootDn}" read by * none`,
      // The admin is not this database's rootdn, so its default size limit (500) would apply to a long log.
      ...(options.logSizeLimit ? [`limits dn.exact="${rootDn}" size=${options.logSizeLimit}`] : [`limits dn.exact="${rootDn}" size=unlimited time=unlimited`]),
      'database mdb',
      `maxsize ${maxSize}`,
      `suffix "${suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${password}`,
      `directory ${db}`,
      ...(options.readers ?? []).map((r) => `limits dn.exact="cn=${r.name},${suffix}" ${r.limits}`),
      'index objectClass eq',
      'index entryUUID eq',
      'overlay accesslog',
      'logdb cn=accesslog',
      'logops writes',
      'logsuccess TRUE',
      '',
    ].join('\n'),
  );
  if (options.seed) run('slapadd', ['-q', '-f', conf, '-b', suffix, '-l', options.seed]);
  // Another test can still take a port between the check and slapd's bind: then slapd exits at once
  // and is started again on other ports.
  let started: { child: ChildProcess; url: string; ldapsUrl: string } | undefined;
  for (let attempt = 1; !started; attempt++) {
    try {
      started = await spawnSlapd(conf);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  const { child, url, ldapsUrl } = started;

  const auth = ['-x', '-H', url, '-D', rootDn, '-w', password];
  if (!options.seed) {
    const top = suffix.split(',')[0]!.split('=');
    run('ldapadd', [...auth], `dn: ${suffix}\nobjectClass: ${top[0]!.toLowerCase() === 'dc' ? 'domain' : 'organization'}\n${top[0]}: ${top[1]}\n`);
  }
  for (const r of options.readers ?? []) {
    run(
      'ldapadd',
      [...auth],
      `dn: cn=${r.name},${suffix}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: ${r.name}\nuserPassword: ${password}\n`,
    );
  }
  return {
    url,
    ldapsUrl,
    suffix,
    rootDn,
    password,
    caFile: tls.ca,
    dir,
    modify: (ldif) => void run('ldapmodify', [...auth], ldif),
    add: (ldif) => void run('ldapadd', [...auth], ldif),
    search: (base, filter = '(objectClass=*)', attrs = []) => run('ldapsearch', [...auth, '-LLL', '-o', 'ldif-wrap=no', '-b', base, filter, ...attrs]),
    stop: async () => {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function spawnSlapd(conf: string): Promise<{ child: ChildProcess; url: string; ldapsUrl: string }> {
  const port = await freePort();
  const tlsPort = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  const child: ChildProcess = spawn('slapd', ['-f', conf, '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`slapd could not start: ${e.message} (npm test installs slapd with apt-get)`)));
    child.once('exit', (code) => reject(new Error(`slapd exited with ${code} (ports ${port}, ${tlsPort}): ${stderr}`)));
  });
  failed.catch(() => undefined);
  try {
    await Promise.race([waitForPort(port, '127.0.0.1', 20_000, 'slapd'), failed]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { child, url, ldapsUrl };
}

/** A throwaway CA and a server certificate for 127.0.0.1, so TLS can be verified for real. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=dirbridge test CA', '-keyout', caKey, '-out', ca]);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', key, '-out', csr]);
  run('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  return { ca, cert, key };
}
