/**
 * TLS and secrets against a real slapd (LDAPS and StartTLS with a throwaway CA): a server that cannot
 * prove who it is is refused by default, each way it can fail has a message naming the fix, and the
 * bind password (from the environment or a file) reaches no file, log, report or answer dirbridge writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSlapd, type Slapd } from '../integration/harness/slapd.js';
import { CLI } from './harness.js';

let slapd: Slapd;
const SECRET_ENV = 'HOSTILE_BIND_PW';

beforeAll(async () => {
  slapd = await startSlapd();
  slapd.add(
    `dn: cn=Tess Tls,${slapd.suffix}\nobjectClass: dominoPerson\ncn: Tess Tls\nsn: Tls\ndominoUNID: ${'C0'.repeat(16)}\ninternetaddress: tess@notes.acme.test\n`,
  );
});
afterAll(async () => slapd?.stop());

interface Outcome {
  code: number;
  status?: string;
  message?: string;
  stdout: string;
  stderr: string;
  dir: string;
}

/** A full import of one LDAP agent, its password from a file (default) or the environment. */
function importWith(url: string, tls: Record<string, unknown>, options: { password?: string; from?: 'env' | 'file'; args?: string[] } = {}): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-hostile-tls-'));
  const password = options.password ?? slapd.password;
  const from = options.from ?? 'file';
  writeFileSync(join(dir, 'pw'), `${password}\n`, { mode: 0o600 });
  const config = {
    metaverse: { file: join(dir, 'mv.db'), objectTypes: { DominoUser: { attributes: ['cn', 'mail'] } } },
    logging: { file: join(dir, 'dirbridge.log'), level: 'debug' },
    agents: {
      'domino-people': {
        type: 'domino-ldap',
        url,
        bindDn: slapd.rootDn,
        password: from === 'env' ? { env: SECRET_ENV } : { file: join(dir, 'pw') },
        tls,
        baseDn: slapd.suffix,
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        attributes: ['cn', 'internetaddress'],
      },
    },
    rules: {},
  };
  writeFileSync(join(dir, 'dirbridge.yaml'), stringify(config));
  const args = options.args ?? ['run-step', 'domino-people', 'full-import', '--json'];
  const r = spawnSync(process.execPath, [CLI, '--config', join(dir, 'dirbridge.yaml'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, [SECRET_ENV]: password, DIRBRIDGE_LOG_LEVEL: 'debug' },
    timeout: 60_000,
  });
  let report: { status: string; steps: { message?: string }[] } | undefined;
  try {
    report = JSON.parse(r.stdout) as typeof report;
  } catch {
    report = undefined;
  }
  return { code: r.status ?? -1, status: report?.status, message: report?.steps[0]?.message, stdout: r.stdout, stderr: r.stderr, dir };
}

/** Every byte dirbridge left in its folder (store, WAL, log, lock), and what it printed. */
function everythingWritten(o: Outcome): string {
  const files = readdirSync(o.dir).filter((f) => f !== 'pw' && f !== 'dirbridge.yaml');
  return [o.stdout, o.stderr, ...files.map((f) => readFileSync(join(o.dir, f)).toString('latin1'))].join('\n');
}

describe('hostile: TLS', () => {
  it('LDAPS with the CA configured works (the control case)', () => {
    expect(importWith(slapd.ldapsUrl, { caFile: slapd.caFile })).toMatchObject({ code: 0, status: 'success' });
  });
  it('an LDAPS certificate from an unknown CA is refused by default, naming caFile', () => {
    const r = importWith(slapd.ldapsUrl, {});
    expect(r).toMatchObject({ code: 3, status: 'stopped-server-down' });
    expect(r.message).toMatch(/certificate.*tls\.caFile/i);
  });
  it('StartTLS with a certificate from an unknown CA is refused, not continued in clear', () => {
    const r = importWith(slapd.url, { startTls: true });
    expect(r).toMatchObject({ code: 3, status: 'stopped-server-down' });
    expect(r.message).toMatch(/certificate/i);
  });
  it('a certificate for another name is refused, naming tls.serverName', () => {
    const r = importWith(slapd.ldapsUrl, { caFile: slapd.caFile, serverName: 'domino.elsewhere.example' });
    expect(r).toMatchObject({ code: 3, status: 'stopped-server-down' });
    expect(r.message).toMatch(/not issued for this host name.*tls\.serverName/);
  });
  it('a CA file of another CA does not make the server trusted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirbridge-hostile-ca-'));
    const key = join(dir, 'k.pem');
    const ca = join(dir, 'other-ca.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=another CA', '-keyout', key, '-out', ca], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    expect(importWith(slapd.ldapsUrl, { caFile: ca })).toMatchObject({ code: 3, status: 'stopped-server-down' });
  });
  it('LDAPS spoken to the plain port fails at once with a clear message, no hang', () => {
    const started = Date.now();
    const r = importWith(slapd.url.replace('ldap://', 'ldaps://'), { caFile: slapd.caFile });
    expect(r).toMatchObject({ code: 3, status: 'stopped-server-down' });
    expect(r.message).toMatch(/ldaps:\/\/127\.0\.0\.1/);
    expect(Date.now() - started).toBeLessThan(45_000);
  });
  it('verification turned off (a lab setting) is said in the report on every run', () => {
    const r = importWith(slapd.ldapsUrl, { rejectUnauthorized: false });
    expect(r).toMatchObject({ code: 1, status: 'completed-warnings' });
    expect(r.stdout).toMatch(/"code": ?"tls-not-verified"/);
  });
});

describe('hostile: secrets', () => {
  const secret = 'Hostile-Bind-Secret-7f3a';

  for (const from of ['file', 'env'] as const) {
    it(`a wrong password from the ${from === 'env' ? 'environment' : 'secret file'} is named as a bind failure, and shown nowhere`, () => {
      const r = importWith(slapd.ldapsUrl, { caFile: slapd.caFile }, { password: secret, from });
      expect(r.code).not.toBe(0);
      expect(r.message ?? r.stderr).toMatch(/bind|credentials/i);
      expect(everythingWritten(r)).not.toContain(secret);
    });
  }

  for (const from of ['file', 'env'] as const) {
    it(`the right password from the ${from === 'env' ? 'environment' : 'secret file'} reaches no store page, WAL, debug log or report`, () => {
      const r = importWith(slapd.ldapsUrl, { caFile: slapd.caFile }, { from });
      expect(r).toMatchObject({ code: 0, status: 'success' });
      expect(everythingWritten(r)).not.toContain(slapd.password);
    });
  }

  it("every file dirbridge writes is its owner's alone (0600)", () => {
    const r = importWith(slapd.ldapsUrl, { caFile: slapd.caFile });
    expect(r.code).toBe(0);
    const written = readdirSync(r.dir).filter((f) => f !== 'pw' && f !== 'dirbridge.yaml');
    expect(written).toEqual(expect.arrayContaining(['mv.db', 'dirbridge.log']));
    for (const f of written) expect((statSync(join(r.dir, f)).mode & 0o777).toString(8), f).toBe('600');
  });

  it('what the auditor reads (status, history, connector space) shows no password', () => {
    const r = importWith(slapd.ldapsUrl, { caFile: slapd.caFile });
    expect(r.code).toBe(0);
    for (const args of [
      ['status', '--json'],
      ['history', '--json'],
      ['cs', 'search', 'domino-people', '--json'],
    ]) {
      const o = spawnSync(process.execPath, [CLI, '--config', join(r.dir, 'dirbridge.yaml'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'debug' },
      });
      expect(o.stdout + o.stderr, args.join(' ')).not.toContain(slapd.password);
      expect(o.stdout.length, args.join(' ')).toBeGreaterThan(2);
    }
  });
});
