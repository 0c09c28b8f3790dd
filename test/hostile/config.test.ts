/**
 * Careless configuration and damaged files around the store, tried through the CLI on a copy of the
 * quickstart: each is refused before anything runs, with a message that names the file, the key or
 * the path and the fix, and its own exit code (78 configuration, 74 store); nothing is written.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { quickstartCopy } from '../integration/harness/quickstart.js';
import { expectNoStackTrace } from './harness.js';

const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');
let dir: string;
let config: string;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--config', config, ...args], {
    env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Changes the quickstart config with `edit`. */
function editConfig(edit: (c: Record<string, any>) => void): void {
  const c = parse(readFileSync(config, 'utf8')) as Record<string, any>;
  edit(c);
  writeFileSync(config, stringify(c));
}

/** An LDAP agent in place of the quickstart's domino-people file: validated, never reached. */
function ldapPeople(extra: Record<string, unknown>): void {
  editConfig((c) => {
    c.agents['domino-people'] = {
      type: 'domino-ldap',
      url: 'ldaps://127.0.0.1:1',
      bindDn: 'cn=reader,o=Acme',
      baseDn: 'o=Acme',
      objectClasses: ['dominoPerson'],
      attributes: ['cn', 'givenname', 'sn', 'uid', 'internetaddress', 'mailsystem', 'title', 'telephonenumber'],
      ...extra,
    };
  });
}

beforeEach(() => {
  ({ config, dir } = quickstartCopy());
});

describe('hostile: config', () => {
  it('a log file in a folder that does not exist: exit 78 naming logging.file, before any run starts', () => {
    editConfig((c) => (c.logging = { file: join(dir, 'no/such/folder/dirbridge.log') }));
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/logging\.file: cannot open .*no\/such\/folder\/dirbridge\.log.*ENOENT.*create its folder/);
    expectNoStackTrace(r.stderr);
    expect(existsSync(join(dir, 'work/metaverse.db'))).toBe(false);
  });

  for (const [template, why] of [
    ['CN={cn,OU=Domino Contacts,DC=acme,DC=example', /check the braces/],
    ['{cn}', /not a DN template/],
    ['CN=Everyone,OU=Domino Contacts,DC=acme,DC=example', /first RDN must hold a placeholder/],
  ] as const) {
    it(`a provisioning DN template that gives no DN (${template}) is refused at load`, () => {
      editConfig((c) => (c.rules['ad-contacts'].provision.dn = template));
      const r = cli(['run', 'initial']);
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(/rules\.ad-contacts\.provision\.dn: /);
      expect(r.stderr).toMatch(why);
    });
  }

  it('a secret file others can read is refused, with the chmod that fixes it', () => {
    const pw = join(dir, 'domino.pw');
    writeFileSync(pw, 'secret\n');
    for (const mode of [0o644, 0o777]) {
      chmodSync(pw, mode);
      ldapPeople({ password: { file: pw } });
      const r = cli(['run', 'initial']);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(
        `agents.domino-people.password: secret file ${pw} can be read or written by others (mode 0${mode.toString(8)}); run chmod 600 ${pw}`,
      );
      expect(r.stderr).not.toContain('secret\n');
    }
  });

  it('an inline password is refused with the way to give one', () => {
    ldapPeople({ password: 'Winter2026!' });
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/agents\.domino-people\.password: a secret is never written in the config file: give \{ env: NAME \}.*or \{ file: PATH \}/);
    expect(r.stderr).not.toContain('Winter2026!');
  });

  it('an unknown agent in metaverse.precedence is refused', () => {
    editConfig((c) => (c.metaverse.precedence = { title: ['hr-agent', 'domino-people'] }));
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/metaverse\.precedence\.title\.0: no agent named "hr-agent"/);
  });

  it('a CA file that is missing, or is not PEM, is refused before anything connects', () => {
    const pw = join(dir, 'domino.pw');
    writeFileSync(pw, 'secret\n', { mode: 0o600 });
    ldapPeople({ password: { file: pw }, tls: { caFile: join(dir, 'missing-ca.pem') } });
    let r = cli(['run', 'initial']);
    expect({ code: r.code, matches: /agents\.domino-people\.tls\.caFile: cannot read .*missing-ca\.pem \(ENOENT\)/.test(r.stderr) }).toEqual({
      code: 78,
      matches: true,
    });
    writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    ldapPeople({ password: { file: pw }, tls: { caFile: join(dir, 'ca.der') } });
    r = cli(['run', 'initial']);
    expect({ code: r.code, matches: /agents\.domino-people\.tls\.caFile: .*holds no PEM certificate.*openssl x509 -inform der/.test(r.stderr) }).toEqual({
      code: 78,
      matches: true,
    });
  });

  it('a YAML alias bomb is refused at once, as a configuration error', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
      '',
    ].join('\n');
    writeFileSync(config, bomb + readFileSync(config, 'utf8'));
    const started = Date.now();
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/YAML: .*alias/i);
    expect(Date.now() - started).toBeLessThan(10_000);
    expectNoStackTrace(r.stderr);
  });
});

describe('hostile: store and lock', () => {
  const store = (): string => join(dir, 'work/metaverse.db');

  it('a metaverse path that is a folder, or in a folder that does not exist: exit 74 with the path', () => {
    mkdirSync(store());
    let r = cli(['run', 'initial']);
    expect(r.code).toBe(74);
    expect(r.stderr).toContain(`the metaverse ${store()} is a folder, not a metaverse file`);
    expectNoStackTrace(r.stderr);
    editConfig((c) => (c.metaverse.file = join(dir, 'nowhere/metaverse.db')));
    r = cli(['run', 'initial']);
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(/cannot be created: the folder .*nowhere does not exist/);
  });

  it('an emptied store is refused, not taken for a new one: history and lineage are not silently lost', () => {
    expect(cli(['run', 'initial']).code).toBe(2);
    writeFileSync(store(), '');
    for (const args of [['run', 'delta-cycle'], ['status'], ['plan']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(74);
      expect(r.stderr).toMatch(/is empty: the store that was here has lost its content .*restore it from a backup/);
    }
    expect(statSync(store()).size).toBe(0);
  });

  it('a file that is not a store (damaged) is refused with how to restore', () => {
    writeFileSync(store(), Buffer.alloc(8192, 0x5a), { mode: 0o600 });
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(/is damaged or not a dirbridge store .*restore the file from a backup/);
    expectNoStackTrace(r.stderr);
  });

  it('a lock path that is a folder is named, exit 74', () => {
    mkdirSync(`${store()}.lock`);
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(74);
    expect(r.stderr).toContain(`the run lock ${store()}.lock is a folder`);
    expectNoStackTrace(r.stderr);
  });

  it('a lock left by a process whose pid now belongs to another process is taken over', () => {
    // pid 1 is alive, but did not start at the time the lock says.
    writeFileSync(`${store()}.lock`, JSON.stringify({ pid: 1, started: 'not-its-start-time', what: 'delta-cycle', since: '2026-11-22T00:00:00Z' }));
    const r = cli(['run', 'initial']);
    expect(r.code).toBe(2);
    expect(existsSync(`${store()}.lock`)).toBe(false);
  });
});

describe('hostile: store and lock', () => {
  it('status --integrity reads every page: ok on a sound store, exit 74 and how to restore on a damaged one', async () => {
    const { setUpQuickstart } = await import('./harness.js');
    const { closeSync, openSync, statSync: stat, writeSync } = await import('node:fs');
    const d = setUpQuickstart();
    const file = d.file('work/metaverse.db');
    let r = d.cli(['status', '--integrity'], { json: false });
    expect(r.stdout).toContain('integrity: ok (every page checked)');
    // A page in the middle of the file overwritten, as a bad disk sector or a stray write would: the
    // store still opens, and plain status cannot tell.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor((stat(file).size / 4096) * 0.6) * 4096);
    closeSync(fd);
    r = d.cli(['status', '--integrity'], { json: false });
    expect(r.code).toBe(74);
    // SQLite's own words depend on which page was hit (malformed, or a b-tree error over several lines).
    expect(r.stdout).toMatch(/warning: the store .*metaverse\.db is damaged \([^]+\): stop the schedule and restore it from a backup/);
  });
});
