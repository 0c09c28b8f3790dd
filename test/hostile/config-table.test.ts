/**
 * Configuration mistakes an administrator makes, one per case, on a fresh copy of the quickstart:
 * each is refused before anything runs, exit 78, with a message that names the file and the key and
 * says what is wrong (or how to fix it); no stack trace, no store created, no secret shown.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { expectNoStackTrace, freshQuickstart, type Deployment } from './harness.js';

type Config = Record<string, any>;
const edit = (d: Deployment, f: (c: Config) => void): void => {
  const c = parse(readFileSync(d.config, 'utf8')) as Config;
  f(c);
  writeFileSync(d.config, stringify(c));
};
/** An LDAP agent in place of the quickstart's people file: validated, never reached. */
const ldap = (d: Deployment, extra: Config): void =>
  edit(d, (c) => {
    c.agents['domino-people'] = {
      type: 'domino-ldap',
      url: 'ldaps://127.0.0.1:1',
      bindDn: 'cn=reader,o=Acme',
      baseDn: 'o=Acme',
      objectClasses: ['dominoPerson'],
      attributes: ['cn', 'givenname', 'sn', 'uid', 'internetaddress', 'mailsystem', 'title', 'telephonenumber'],
      password: { env: 'HOSTILE_DOMINO_PW' },
      ...extra,
    };
  });
const profile = (d: Deployment, text: string): string[] => {
  writeFileSync(join(d.dir, 'p.yaml'), text);
  return ['run', join(d.dir, 'p.yaml')];
};

/** [what, the mistake (returns the command to run, default run initial), what the message must say]. */
const cases: [string, (d: Deployment) => string[] | void, RegExp][] = [
  ['the config file missing', (d) => rmSync(d.config), /cannot read the file: ENOENT.*pass --config PATH/],
  ['a folder in place of the config file', (d) => (rmSync(d.config), mkdirSync(d.config)), /cannot read the file: EISDIR/],
  ['an empty config file', (d) => writeFileSync(d.config, ''), /\(top level\): Invalid input: expected object/],
  ['YAML that does not parse', (d) => writeFileSync(d.config, 'metaverse: [\n  : : :\n'), /YAML: .*line 2/],
  [
    'a tab used for indentation',
    (d) => writeFileSync(d.config, readFileSync(d.config, 'utf8').replace('\n  file:', '\n\tfile:')),
    /YAML: Tabs are not allowed as indentation/,
  ],
  ['a list where a mapping belongs', (d) => writeFileSync(d.config, '- a\n- b\n'), /\(top level\): .*expected object, received array/],
  ['a key given twice', (d) => writeFileSync(d.config, `${readFileSync(d.config, 'utf8')}\nagents: {}\n`), /YAML: Map keys must be unique/],
  ['a misspelt top-level key', (d) => edit(d, (c) => (c.agent = {})), /\(top level\): unknown key\(s\) "agent": remove them or fix the spelling/],
  ['a misspelt agent key', (d) => edit(d, (c) => (c.agents['domino-people'].baseDN = 'o=x')), /agents\.domino-people: unknown key\(s\) "baseDN"/],
  [
    'an unknown agent type',
    (d) => edit(d, (c) => (c.agents['domino-people'].type = 'notes')),
    /agents\.domino-people\.type: .*'domino-ldap' \| 'ad-ldap' \| 'ldif'/,
  ],
  [
    'an http:// URL for an LDAP agent',
    (d) => ldap(d, { url: 'http://127.0.0.1:389' }),
    /agents\.domino-people\.url: ldap:\/\/host:port or ldaps:\/\/host:port/,
  ],
  ['an LDAP URL with a path', (d) => ldap(d, { url: 'ldap://127.0.0.1:389/o=x' }), /agents\.domino-people\.url: /],
  [
    'plain LDAP to another host (the password would travel in clear)',
    (d) => ldap(d, { url: 'ldap://domino.acme.example:389' }),
    /agents\.domino-people\.url: .*in clear; use ldaps:\/\/host:636, or .*tls\.startTls: true/,
  ],
  ['a bind DN that is not a DN', (d) => ldap(d, { bindDn: 'reader' }), /agents\.domino-people\.bindDn: "reader" is not a DN/],
  ['a base DN that is not a DN', (d) => ldap(d, { baseDn: 'Acme' }), /agents\.domino-people\.baseDn: "Acme" is not a DN/],
  [
    'a filter with a parenthesis not closed',
    (d) => ldap(d, { filter: '(&(objectClass=dominoPerson)' }),
    /agents\.domino-people\.filter: .* is not an LDAP filter: 1 "\(" not closed/,
  ],
  ['a filter without parentheses', (d) => ldap(d, { filter: 'objectClass=dominoPerson' }), /agents\.domino-people\.filter: .*enclosed in parentheses/],
  ['a filter with a stray ")"', (d) => ldap(d, { filter: '(cn=a))' }), /agents\.domino-people\.filter: .*closes nothing/],
  [
    'a password variable that is not set',
    (d) => ldap(d, { password: { env: 'HOSTILE_UNSET_PW' } }),
    /agents\.domino-people\.password: environment variable HOSTILE_UNSET_PW is not set/,
  ],
  [
    'a password file that does not exist',
    (d) => ldap(d, { password: { file: join(d.dir, 'nope.pw') } }),
    /agents\.domino-people\.password: cannot read secret file .*nope\.pw: ENOENT/,
  ],
  [
    'an empty password file',
    (d) => (writeFileSync(join(d.dir, 'e.pw'), '', { mode: 0o600 }), ldap(d, { password: { file: join(d.dir, 'e.pw') } })),
    /agents\.domino-people\.password: secret file .*e\.pw is empty/,
  ],
  ['a config file anyone can write', (d) => chmodSync(d.config, 0o666), /can be written by anyone \(mode 0666\).*run chmod o-w/],
  ['no metaverse file', (d) => edit(d, (c) => delete c.metaverse.file), /metaverse\.file: Invalid input: expected string/],
  ['no object types', (d) => edit(d, (c) => (c.metaverse.objectTypes = {})), /rules\.domino-people\.objectType: unknown metaverse object type "DominoUser"/],
  [
    'rules for an agent that does not exist',
    (d) => edit(d, (c) => (c.rules.hr = c.rules['domino-people'])),
    /rules\.hr: no agent named "hr"; agents are: domino-people/,
  ],
  [
    'rules for an object type that does not exist',
    (d) => edit(d, (c) => (c.rules['domino-people'].objectType = 'Person')),
    /rules\.domino-people\.objectType: unknown metaverse object type "Person"; types are: DominoUser, ExchangeUser/,
  ],
  [
    'an import flow into an attribute the type lacks',
    (d) => edit(d, (c) => (c.rules['domino-people'].importFlows.nosuch = 'cn')),
    /rules\.domino-people\.importFlows\.nosuch: "nosuch" is not an attribute of DominoUser; add it to metaverse\.objectTypes\.DominoUser\.attributes/,
  ],
  [
    'an export flow from an attribute the type lacks',
    (d) => edit(d, (c) => (c.rules['ad-contacts'].exportFlows.cn = 'nosuch')),
    /rules\.ad-contacts\.exportFlows\.cn: refers to "nosuch", which is not an attribute of DominoUser/,
  ],
  [
    'a join on an attribute the type lacks',
    (d) => edit(d, (c) => (c.rules['ad-contacts'].join[0].mv = 'nosuch')),
    /rules\.ad-contacts\.join\.0\.mv: "nosuch" is not an attribute of DominoUser/,
  ],
  [
    'a DN template with an unknown placeholder',
    (d) => edit(d, (c) => (c.rules['ad-contacts'].provision.dn = 'CN={nosuch},OU=Domino Contacts,DC=acme,DC=example')),
    /rules\.ad-contacts\.provision\.dn: refers to "\{nosuch\}"/,
  ],
  [
    'an ownership stamp without a value',
    (d) => edit(d, (c) => (c.rules['ad-contacts'].ownership = { attribute: 'adminDescription' })),
    /rules\.ad-contacts\.ownership\.value: /,
  ],
  [
    'a scope condition with an unknown operator',
    (d) => edit(d, (c) => (c.rules['domino-people'].scope = [{ attribute: 'mailsystem', like: '5' }])),
    /rules\.domino-people\.scope\.0: unknown key\(s\) "like"/,
  ],
  ['a negative deletion threshold', (d) => edit(d, (c) => (c.safety = { deletionThreshold: { count: -1 } })), /safety\.deletionThreshold\.count: Too small/],
  ['a deletion threshold of 150%', (d) => edit(d, (c) => (c.safety = { deletionThreshold: { percent: 150 } })), /safety\.deletionThreshold\.percent: Too big/],
  [
    'a deletion threshold in words',
    (d) => edit(d, (c) => (c.safety = { deletionThreshold: { count: 'ten' } })),
    /safety\.deletionThreshold\.count: Invalid input: expected number, received string/,
  ],
  // eslint-disable-next-line no-loss-of-precision -- a number YAML reads as Infinity, on purpose
  ['a number too large for a number', (d) => edit(d, (c) => (c.safety = { errorLimit: 1e400 })), /safety\.errorLimit: .*Infinity/],
  ['staging for an agent that does not exist', (d) => edit(d, (c) => (c.safety = { staging: ['nosuch'] })), /safety\.staging\.0: no agent named "nosuch"/],
  [
    'a per-agent threshold for an agent that does not exist',
    (d) => edit(d, (c) => (c.safety = { agents: { nosuch: { deletionThreshold: { count: 1 } } } })),
    /safety\.agents\.nosuch: no agent named "nosuch"/,
  ],
  [
    'a deletion rule naming an agent that does not exist',
    (d) => edit(d, (c) => (c.metaverse.objectTypes.DominoUser.deleteWhenDisconnectedFrom = ['nosuch'])),
    /deleteWhenDisconnectedFrom\.0: no agent named "nosuch"/,
  ],
  [
    'precedence for an attribute no type has',
    (d) => edit(d, (c) => (c.metaverse.precedence = { nosuchattr: ['domino-people'] })),
    /metaverse\.precedence\.nosuchattr: "nosuchattr" is not an attribute of any metaverse object type/,
  ],
  ['an agent name that is a path', (d) => edit(d, (c) => (c.agents['../x'] = c.agents['domino-people'])), /agents\.\.\.\/x: /],
  [
    'an LDIF agent without its file',
    (d) => edit(d, (c) => delete c.agents['domino-people'].file),
    /agents\.domino-people\.file: Invalid input: expected string/,
  ],
  ['a log level that does not exist', (d) => edit(d, (c) => (c.logging = { level: 'verbose' })), /logging\.level: Invalid option: expected one of "debug"/],
  ['a history kept for zero days', (d) => edit(d, (c) => (c.history = { retentionDays: 0 })), /history\.retentionDays: Too small/],
  ['a web port that is a word', (d) => edit(d, (c) => (c.serve = { port: 'http' })), /serve\.port: Invalid input: expected number, received string/],
  [
    'a cron expression that is not one',
    (d) => (edit(d, (c) => (c.schedule = [{ profile: 'delta-cycle', cron: '61 * * * *' }])), ['schedule']),
    /schedule\.0\.cron: "61 \* \* \* \*" is not a cron expression .*use 5 fields/,
  ],
  [
    'a schedule naming a profile that does not exist',
    (d) => (edit(d, (c) => (c.schedule = [{ profile: 'nosuch', cron: '* * * * *' }])), ['schedule']),
    /no run profile "nosuch" \(looked for .*nosuch\.yaml\); set runProfiles in .*dirbridge\.yaml or pass a path/,
  ],
  [
    'a run profiles folder that does not exist',
    (d) => edit(d, (c) => (c.runProfiles = join(d.dir, 'none'))),
    /no run profile "initial" \(looked for .*none\/initial\.yaml\)/,
  ],
  ['a profile that does not exist', () => ['run', 'nosuch-profile'], /no run profile "nosuch-profile"/],
  ['an empty profile file', (d) => profile(d, ''), /p\.yaml:\n.*\(top level\): Invalid input: expected object/],
  [
    'a profile step for an agent that does not exist',
    (d) => profile(d, 'steps:\n  - { agent: nosuch, type: full-import }\n'),
    /p\.yaml:\n.*steps\.0\.agent: no agent named "nosuch"/,
  ],
  [
    'a profile step of a type that does not exist',
    (d) => profile(d, 'steps:\n  - { agent: domino-people, type: fullimport }\n'),
    /steps\.0\.type: Invalid option: expected one of "full-import"/,
  ],
];

describe('hostile: config', () => {
  for (const [what, mistake, says] of cases) {
    it(`refused with the key named: ${what}`, () => {
      const d = freshQuickstart();
      const args = mistake(d) ?? ['run', 'initial'];
      const r = d.cli(args, { json: false, timeout: 20_000, env: { HOSTILE_DOMINO_PW: 'Hostile-Secret-1' } });
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 78, stderr: expect.stringMatching(says) });
      expect(r.stderr).toMatch(/^dirbridge: configuration error in \//);
      expectNoStackTrace(r.stderr);
      expect(r.stderr).not.toContain('Hostile-Secret-1');
      expect(existsSync(join(d.dir, 'work/metaverse.db'))).toBe(false);
    });
  }
});
