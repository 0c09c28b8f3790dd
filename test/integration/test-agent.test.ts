/**
 * `dirbridge test-agent NAME` (ConnId's TestOp) against real servers: slapd shaped as Domino (with
 * its access log) and the Samba AD DC. Each mistake an administrator makes in an agent's config is
 * found before the first run, in one line that names the key to fix; nothing is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { startSlapd, type Slapd } from './harness/slapd.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
let slapd: Slapd;

beforeAll(async () => {
  slapd = await startSlapd();
  slapd.add(
    `dn: ou=people,${slapd.suffix}\nobjectClass: organizationalUnit\nou: people\n\ndn: cn=Tess Test,ou=people,${slapd.suffix}\nobjectClass: dominoPerson\ncn: Tess Test\nsn: Test\ndominoUNID: ${'C1'.repeat(16)}\ninternetaddress: tess@notes.acme.test\n`,
  );
});
afterAll(async () => slapd?.stop());

interface Result {
  code: number;
  json: { connected: boolean; checks: { check: string; ok: boolean; detail: string }[] };
  text: string;
}

function testAgent(agent: Record<string, unknown>, password: string): Result {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-test-agent-'));
  writeFileSync(join(dir, 'pw'), password + '\n', { mode: 0o600 });
  const config = {
    metaverse: { file: join(dir, 'mv.db'), objectTypes: { DominoUser: { attributes: ['cn', 'mail'] } } },
    agents: { probe: { password: { file: join(dir, 'pw') }, ...agent } },
    rules: {},
  };
  writeFileSync(join(dir, 'dirbridge.yaml'), stringify(config));
  const run = (json: boolean) =>
    spawnSync(process.execPath, [CLI, '--config', join(dir, 'dirbridge.yaml'), 'test-agent', 'probe', ...(json ? ['--json'] : [])], { encoding: 'utf8' });
  const r = run(true);
  const result = { code: r.status ?? -1, json: JSON.parse(r.stdout) as Result['json'], text: run(false).stdout };
  expect(existsSync(join(dir, 'mv.db'))).toBe(false); // nothing written, not even a metaverse
  return result;
}

const failed = (r: Result): string[] => r.json.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);

describe('test-agent against slapd shaped as Domino', () => {
  const domino = (over: Record<string, unknown> = {}) => ({
    type: 'domino-ldap',
    url: slapd.url,
    bindDn: slapd.rootDn,
    baseDn: `ou=people,${slapd.suffix}`,
    filter: '(objectClass=dominoPerson)',
    objectClasses: ['dominoPerson'],
    attributes: ['cn', 'sn', 'internetaddress'],
    delta: { strategy: 'accesslog' },
    ...over,
  });

  it('a good agent passes every check, exit 0, one line each', () => {
    const r = testAgent(domino(), slapd.password);
    expect(failed(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.json.checks.map((c) => c.check)).toEqual([
      'connect and sign in',
      'root DSE',
      'paged results control',
      'delta strategy accesslog',
      'base',
      'one entry of the view',
      'attributes in the schema',
    ]);
    expect(r.json.checks.find((c) => c.check === 'one entry of the view')?.detail).toMatch(/cn=Tess Test,ou=people,o=Acme with its dominoUNID/);
    expect(r.text).toMatch(/^probe \(domino-ldap\):\n {2}ok {4}connect and sign in/);
  });

  it('a wrong password cannot sign in: exit 3, nothing else tried', () => {
    const r = testAgent(domino(), 'not-the-password');
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({
      connected: false,
      checks: [{ check: 'connect and sign in', ok: false, detail: expect.stringMatching(/invalid credentials/) }],
    });
  });

  it('a base that does not exist, an attribute the schema lacks, a log that is not there: each named with its key, exit 2', () => {
    const r = testAgent(
      domino({ baseDn: `ou=nobody,${slapd.suffix}`, attributes: ['cn', 'internetadress'], delta: { strategy: 'accesslog', accesslogBase: 'cn=nolog' } }),
      slapd.password,
    );
    expect(r.code).toBe(2);
    expect(failed(r)).toEqual([
      expect.stringMatching(/^delta strategy accesslog: the change log cn=nolog does not exist .*agents\.probe\.delta\.accesslogBase/),
      expect.stringMatching(/^base: ou=nobody,o=Acme does not exist; correct agents\.probe\.baseDn/),
      expect.stringMatching(/^one entry of the view: /),
      expect.stringMatching(/^attributes in the schema: the directory's schema has no attribute internetadress: correct agents\.probe\.attributes/),
    ]);
  });

  it('an anchor the entries do not carry is found on the entry it reads', () => {
    const r = testAgent(domino({ anchor: 'employeeNumber', attributes: ['cn', 'sn'] }), slapd.password);
    expect(failed(r)).toEqual([
      expect.stringMatching(/^one entry of the view: cn=Tess Test,ou=people,o=Acme has no readable employeeNumber: set agents\.probe\.anchor/),
    ]);
  });
});

describe('test-agent against the Samba AD DC', () => {
  const samba = inject('samba');
  it('DirSync is offered by Active Directory, and the users container reads', () => {
    if (!samba) throw new Error('the Samba AD DC did not start (integration tests need it)');
    const ad = {
      type: 'ad-ldap',
      url: samba.url,
      bindDn: samba.bindDn,
      baseDn: `CN=Users,${samba.baseDn}`,
      filter: '(objectClass=user)',
      objectClasses: ['user'],
      attributes: ['cn', 'mail', 'proxyAddresses'],
    };
    const r = testAgent(ad, samba.password);
    expect(failed(r)).toEqual([]);
    expect(r.json.checks.find((c) => c.check === 'delta strategy dirsync')?.detail).toBe('the DirSync control is offered');
    expect(r.json.checks.find((c) => c.check === 'one entry of the view')?.detail).toMatch(/with its objectGUID/);
  });
});

describe('test-agent of an agent without checks of its own', () => {
  it('reads the first page of an LDIF source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirbridge-test-agent-ldif-'));
    writeFileSync(join(dir, 'people.ldif'), `dn: cn=Lee Ldif,o=Acme\nobjectClass: dominoPerson\ncn: Lee Ldif\ndominoUNID: ${'D2'.repeat(16)}\n`);
    writeFileSync(
      join(dir, 'dirbridge.yaml'),
      stringify({
        metaverse: { file: join(dir, 'mv.db'), objectTypes: { DominoUser: { attributes: ['cn'] } } },
        agents: { people: { type: 'ldif', file: 'people.ldif', anchor: 'dominoUNID' } },
        rules: {},
      }),
    );
    const r = spawnSync(process.execPath, [CLI, '--config', join(dir, 'dirbridge.yaml'), 'test-agent', 'people', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      connected: true,
      checks: [{ ok: true }, { check: 'read the first page of the view', ok: true, detail: '1 objects read' }],
    });
  });
});
