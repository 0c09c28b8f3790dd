import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const ROOT = resolve(import.meta.dirname, '../..');
const quickstart = parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;

function write(config: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), 'dirbridge-cfg-')), 'dirbridge.yaml');
  writeFileSync(f, typeof config === 'string' ? config : stringify(config));
  return f;
}

function problems(config: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(write(config), env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const withAgent = (agent: Record<string, unknown>): unknown => ({ ...quickstart, agents: { ...quickstart.agents, 'domino-people': agent } });
const ldapAgent = {
  type: 'domino-ldap',
  url: 'ldaps://domino.example:636',
  bindDn: 'cn=sync,o=Acme',
  password: { env: 'DOMINO_PW' },
  baseDn: 'o=Acme',
  objectClasses: ['dominoPerson'],
  attributes: ['cn', 'sn'],
};

describe('safety settings', () => {
  it('guards are on by default: 500 deletions or 20% per export, shrunk imports refused, 5000 errors, 3 retries', () => {
    const cfg = loadConfig(write(quickstart), {}).config;
    expect(cfg.safety).toEqual({
      deletionThreshold: { count: 500, percent: 20, minimumObjects: 100 },
      agents: {},
      fullImportShrinkPercent: 50,
      errorLimit: 5000,
      retry: { attempts: 3, initialDelayMs: 1000, maxDelayMs: 30_000 },
      staging: false,
    });
  });
  it('a threshold for an agent that does not exist, or with a wrong type, is named', () => {
    expect(problems({ ...quickstart, safety: { agents: { 'ad-contact': { deletionThreshold: { count: 5 } } } } })).toContainEqual(
      expect.stringMatching(/safety\.agents\.ad-contact.*no agent named "ad-contact"/),
    );
    expect(problems({ ...quickstart, safety: { deletionThreshold: { count: 'many' } } })).toContainEqual(
      expect.stringMatching(/safety\.deletionThreshold\.count/),
    );
  });
});

describe('configuration errors name the key and the fix', () => {
  it('accepts the shipped quickstart', () => {
    expect(problems(quickstart)).toEqual([]);
  });
  it('wrong types', () => {
    expect(problems(withAgent({ ...ldapAgent, pageSize: 'many' }))).toEqual([expect.stringMatching(/^agents\.domino-people\.pageSize: .*expected number/)]);
  });
  it('unknown keys', () => {
    expect(problems(withAgent({ ...ldapAgent, pasword: 'x' }))).toContainEqual(
      expect.stringMatching(/^agents\.domino-people: unknown key\(s\) "pasword": remove them or fix the spelling/),
    );
  });
  it('a missing secret', () => {
    expect(problems(withAgent(ldapAgent))).toEqual([
      'agents.domino-people.password: environment variable DOMINO_PW is not set; export it before running dirbridge',
    ]);
    expect(problems(withAgent(ldapAgent), { DOMINO_PW: 's3cret' })).toEqual([]);
    expect(problems(withAgent({ ...ldapAgent, password: { file: '/nonexistent/pw' } }))[0]).toMatch(/cannot read secret file \/nonexistent\/pw: ENOENT/);
  });
  it('Exchange Online agents: the shipped example, one credential, the secret named by its key', () => {
    const exo = parse(readFileSync(join(ROOT, 'examples/exchange-online/dirbridge.yaml'), 'utf8')) as Record<string, any>;
    const env = { DOMINO_PW: 'x', ENTRA_SECRET: 'y' };
    expect(problems(exo, env)).toEqual([]);
    expect(problems(exo, { DOMINO_PW: 'x' })).toEqual([
      'agents.exo-mailboxes.clientSecret: environment variable ENTRA_SECRET is not set; export it before running dirbridge',
      'agents.exo-groups.clientSecret: environment variable ENTRA_SECRET is not set; export it before running dirbridge',
      'agents.exo-contacts.clientSecret: environment variable ENTRA_SECRET is not set; export it before running dirbridge',
    ]);
    const both = structuredClone(exo);
    both.agents['exo-mailboxes'].certificate = { file: 'app.pem' };
    expect(problems(both, env)).toEqual([expect.stringMatching(/^agents\.exo-mailboxes\.clientSecret: give exactly one of clientSecret or certificate/)]);
    const plain = structuredClone(exo);
    plain.agents['exo-mailboxes'].graphUrl = 'http://graph.example';
    expect(problems(plain, env)).toEqual([expect.stringMatching(/^agents\.exo-mailboxes\.graphUrl: .*https:\/\//)]);
  });
  it('rules that refer to unknown things', () => {
    const bad = structuredClone(quickstart);
    bad.rules['ad-contacts'].exportFlows.department = 'department';
    bad.rules['ad-contacts'].provision.dn = 'CN={nickname},OU=x';
    delete bad.rules['domino-contacts'].ownership;
    expect(problems(bad)).toEqual(
      expect.arrayContaining([
        'rules.ad-contacts.exportFlows.department: refers to "department", which is not an attribute of DominoUser',
        'rules.ad-contacts.provision.dn: refers to "{nickname}", which is not an attribute of DominoUser',
        expect.stringMatching(/^rules\.domino-contacts\.ownership: an agent that provisions must stamp/),
      ]),
    );
  });
  it('member references: the agents they resolve in must exist, and an export needs an import that fills them', () => {
    const bad = structuredClone(quickstart);
    bad.metaverse.objectTypes.DominoGroup.attributes.push('members');
    bad.rules['domino-groups'].importFlows.members = { references: 'member', resolveIn: ['domino-people', 'domino-persons'] };
    bad.rules['ad-group-contacts'].exportFlows.member = { references: 'members', resolveIn: ['ad-contact'] };
    bad.metaverse.objectTypes.ExchangeGroup.attributes.push('members');
    bad.rules['domino-group-contacts'].exportFlows.member = { references: 'members', resolveIn: ['domino-people'] };
    expect(problems(bad)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\.domino-groups\.importFlows\.members\.resolveIn\.1: no agent named "domino-persons"/),
        expect.stringMatching(/^rules\.ad-group-contacts\.exportFlows\.member\.resolveIn\.0: no agent named "ad-contact"/),
        expect.stringMatching(
          /^rules\.domino-group-contacts\.exportFlows\.member\.references: no import flow of ExchangeGroup fills "members" with references/,
        ),
      ]),
    );
  });
  it('YAML syntax errors', () => {
    expect(problems('agents: [unclosed')[0]).toMatch(/^YAML: /);
  });
  it('the CLI exits with the config exit code before connecting anything', () => {
    const f = write(withAgent(ldapAgent));
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), '--config', f, 'run', 'initial'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`configuration error in ${f}`);
    expect(r.stderr).toContain('DOMINO_PW is not set');
  });
});
