/**
 * TLS is verified by default: LDAPS and StartTLS against slapd with a throwaway CA succeed when the
 * CA is configured, and stop the step with stopped-server-down when it is not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSlapd, type Slapd } from './harness/slapd.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
let slapd: Slapd;

beforeAll(async () => {
  slapd = await startSlapd();
  slapd.add(
    `dn: cn=Tess Tls,${slapd.suffix}\nobjectClass: dominoPerson\ncn: Tess Tls\nsn: Tls\ndominoUNID: ${'C0'.repeat(16)}\ninternetaddress: tess@notes.acme.test\n`,
  );
});
afterAll(async () => slapd?.stop());

function importWith(url: string, tls: Record<string, unknown>): { code: number; status?: string; message?: string; adds?: number } {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-tls-'));
  const config = {
    metaverse: { file: join(dir, 'mv.db'), objectTypes: { DominoUser: { attributes: ['cn', 'mail'] } } },
    agents: {
      'domino-people': {
        type: 'domino-ldap',
        url,
        bindDn: slapd.rootDn,
        password: { file: join(dir, 'pw') },
        tls,
        baseDn: slapd.suffix,
        filter: '(objectClass=dominoPerson)',
        objectClasses: ['dominoPerson'],
        attributes: ['cn', 'internetaddress'],
      },
    },
    rules: {},
  };
  writeFileSync(join(dir, 'pw'), slapd.password + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'dirbridge.yaml'), stringify(config));
  const r = spawnSync(process.execPath, [CLI, '--config', join(dir, 'dirbridge.yaml'), 'run-step', 'domino-people', 'full-import', '--json'], {
    encoding: 'utf8',
  });
  const report = JSON.parse(r.stdout) as { status: string; steps: { message?: string; stats: { adds: number } }[] };
  return { code: r.status ?? -1, status: report.status, message: report.steps[0]?.message, adds: report.steps[0]?.stats.adds };
}

describe('TLS to the directory', () => {
  it('LDAPS with the CA configured imports', () => {
    expect(importWith(slapd.ldapsUrl, { caFile: slapd.caFile })).toMatchObject({ code: 0, status: 'success', adds: 1 });
  });
  it('StartTLS with the CA configured imports', () => {
    expect(importWith(slapd.url, { caFile: slapd.caFile, startTls: true })).toMatchObject({ code: 0, status: 'success', adds: 1 });
  });
  it('an untrusted certificate stops the step; verification is on by default', () => {
    const r = importWith(slapd.ldapsUrl, {});
    expect(r).toMatchObject({ code: 3, status: 'stopped-server-down' });
    expect(r.message).toMatch(/certificate/i);
    expect(importWith(slapd.url, { startTls: true })).toMatchObject({ code: 3, status: 'stopped-server-down' });
  });
  it('a server that is not there stops the step with stopped-server-down', () => {
    expect(importWith('ldap://127.0.0.1:1', {})).toMatchObject({ code: 3, status: 'stopped-server-down' });
  });
});
