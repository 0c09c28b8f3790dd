/**
 * Hostile and careless input in the source files of the quickstart's LDIF deployment, each after a
 * first setup: no entry may hand one person's contact to another, take over an object dirbridge did
 * not create, or make a person look deleted; a file still being written is not a shorter directory.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { quickstartCopy } from '../integration/harness/quickstart.js';
import { CLI, person } from './harness.js';

interface Report {
  status: string;
  steps: {
    agent: string;
    type: string;
    message?: string;
    stats: Record<string, number>;
    problems: { severity: string; object: string; attribute?: string; code: string; message: string }[];
  }[];
}

let dir: string;
let config: string;

function cli(args: string[]): { code: number; report: Report; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--config', config, ...args, '--json'], {
    env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const people = (): string => join(dir, 'domino-names.ldif');
const contacts = (): string => readFileSync(join(dir, 'work/ad-contacts.ldif'), 'utf8');
const problems = (r: Report): Report['steps'][number]['problems'] => r.steps.flatMap((s) => s.problems);
/** The contact's attribute lines, by the DN's RDN value. */
function contactOf(cn: string): string | undefined {
  return contacts()
    .split(/\n\n/)
    .find((rec) => rec.includes(`dn: CN=${cn},`));
}

const ALICE_UNID = 'FA5D91045BE31D59BCBE77284EA3BDF7';

beforeEach(() => {
  ({ config, dir } = quickstartCopy());
  expect(cli(['run', 'initial']).code).toBe(2); // the quickstart's deliberate bad entries
  expect(contactOf('Alice Archer')).toMatch(/mail: alice\.archer@notes\.acme\.example/);
});

describe('hostile: bad input', () => {
  for (const where of ['after', 'before'] as const) {
    it(`a new entry carrying an existing person's anchor (${where} her) does not take her contact`, () => {
      const text = readFileSync(people(), 'utf8');
      const intruder = person('Mallory Mole', ALICE_UNID, 'mallory.mole@notes.acme.example');
      writeFileSync(
        people(),
        where === 'after' ? `${text.trimEnd()}\n\n${intruder}` : text.replace('\n\ndn: cn=Alice Archer', `\n\n${intruder}\ndn: cn=Alice Archer`),
      );
      for (const profile of ['delta-cycle', 'full-cycle']) {
        const r = cli(['run', profile]);
        expect(r.code, profile).toBe(2);
        expect(problems(r.report), profile).toContainEqual(
          expect.objectContaining({
            code: 'duplicate-anchor',
            object: 'cn=Mallory Mole,ou=Sales,o=Acme',
            message: expect.stringContaining('cn=Alice Archer,ou=Sales,o=Acme'),
          }),
        );
      }
      expect(contactOf('Alice Archer')).toMatch(/mail: alice\.archer@notes\.acme\.example/);
      expect(contactOf('Mallory Mole')).toBeUndefined();
      expect(contacts()).not.toContain('mallory');
    });
  }

  it('a hand-made contact standing at the DN a new person needs is not taken over: dn-collision, its values untouched', () => {
    const handMade =
      'dn: CN=Nina New,OU=Domino Contacts,DC=acme,DC=example\nobjectClass: contact\ncn: Nina New\nmail: nina.private@partner.example\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\n';
    writeFileSync(join(dir, 'work/ad-contacts.ldif'), `${contacts().trimEnd()}\n\n${handMade}`);
    writeFileSync(
      people(),
      `${readFileSync(people(), 'utf8').trimEnd()}\n\n${person('Nina New', '0123456789ABCDEF0123456789ABCDEF', 'nina.new@notes.acme.example')}`,
    );
    for (let i = 0; i < 2; i++) {
      const r = cli(['run', 'delta-cycle']);
      expect(r.code).toBe(2);
      const mine = problems(r.report).filter((p) => p.object.startsWith('CN=Nina New'));
      expect(mine.map((p) => p.code)).toEqual([i === 0 ? 'already-exists' : 'dn-collision']);
    }
    const nina = contactOf('Nina New')!;
    expect(nina).toMatch(/mail: nina\.private@partner\.example/);
    expect(nina).not.toMatch(/dirbridge:managed|nina\.new@/);
    expect(readFileSync(join(dir, 'work/ad-contacts.changes.ldif'), 'utf8')).not.toMatch(/dn: CN=Nina New,[^\n]*\nchangetype: modify/);
  });

  it('a malformed DN on a known person keeps her and her contact, and says so', () => {
    writeFileSync(people(), readFileSync(people(), 'utf8').replace('dn: cn=Alice Archer,ou=Sales,o=Acme', 'dn: cn=Alice Archer,,o=Acme'));
    for (const profile of ['delta-cycle', 'full-cycle']) {
      const r = cli(['run', profile]);
      expect(r.code, profile).toBe(2);
      expect(problems(r.report)).toContainEqual(
        expect.objectContaining({
          code: 'invalid-dn',
          object: 'cn=Alice Archer,,o=Acme',
          message: expect.stringContaining('keeps the values of its last good import'),
        }),
      );
      expect(
        r.report.steps.reduce((n, s) => n + (s.type === 'export' ? s.stats.deletes! : 0), 0),
        profile,
      ).toBe(0);
    }
    expect(contactOf('Alice Archer')).toMatch(/mail: alice\.archer@notes\.acme\.example/);
  });

  it('bytes that are not UTF-8 in a plain value are an error for that person, never U+FFFD in her contact', () => {
    const text = readFileSync(people());
    const at = text.indexOf('sn: Archer\n') + 'sn: '.length;
    writeFileSync(people(), Buffer.concat([text.subarray(0, at), Buffer.from([0x41, 0x72, 0xff, 0x63, 0x68]), text.subarray(at + 'Archer'.length)]));
    const r = cli(['run', 'delta-cycle']);
    expect(r.code).toBe(2);
    expect(problems(r.report)).toContainEqual(expect.objectContaining({ code: 'invalid-utf8', object: 'cn=Alice Archer,ou=Sales,o=Acme', attribute: 'sn' }));
    expect(contactOf('Alice Archer')).toMatch(/\nsn: Archer\n/);
    expect(contacts()).not.toContain('\uFFFD');
  });

  it('an objectGUID that is not 16 bytes is an error for that mailbox, not a new mailbox in place of the old', () => {
    const domino = (): string => readFileSync(join(dir, 'work/domino-contacts.ldif'), 'utf8');
    expect(domino()).toContain('paula.perez@acme.example');
    const file = join(dir, 'ad-mailboxes.ldif');
    writeFileSync(file, readFileSync(file, 'utf8').replace('objectGUID:: 8ajdK49cTVeT75BlItgPMg==', 'objectGUID:: 8ajdK49cTVeT75BlItgP'));
    const r = cli(['run', 'delta-cycle']);
    expect(r.code).toBe(2);
    expect(problems(r.report)).toContainEqual(
      expect.objectContaining({
        code: 'invalid-guid',
        object: 'CN=Paula Perez,OU=Mailboxes,DC=acme,DC=example',
        message: expect.stringContaining('keeps the values of its last good import'),
      }),
    );
    expect(r.report.steps.filter((s) => s.type === 'export').reduce((n, s) => n + s.stats.adds! + s.stats.deletes!, 0)).toBe(0);
    expect(domino()).toContain('paula.perez@acme.example');
  });

  it('a person whose document was recreated (a new UNID, the same name and address) keeps one contact, in one cycle', () => {
    writeFileSync(people(), readFileSync(people(), 'utf8').replace(`dominoUNID: ${ALICE_UNID}`, 'dominoUNID: 0A5D91045BE31D59BCBE77284EA3BD00'));
    const r = cli(['run', 'delta-cycle']);
    expect(r.code).toBe(0);
    expect(problems(r.report).filter((p) => /Alice Archer/i.test(p.object) || /alice/i.test(p.message))).toEqual([]);
    expect(
      contacts()
        .split(/\n\n/)
        .filter((rec) => rec.includes('alice.archer@')).length,
    ).toBe(1);
    expect(contactOf('Alice Archer')).toMatch(/mail: alice\.archer@notes\.acme\.example/);
    const plan = spawnSync(process.execPath, [CLI, '--config', config, 'plan', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' },
    });
    expect(plan.stdout).not.toMatch(/Alice Archer/);
  });

  it('a people file cut in the middle of a line deletes nobody and exports nothing of it', () => {
    const before = contacts();
    const size = readFileSync(people()).length;
    truncateSync(people(), Math.floor(size * 0.6));
    expect(readFileSync(people(), 'utf8').endsWith('\n')).toBe(false);
    const r = cli(['run', 'delta-cycle']);
    expect({ code: r.code, status: r.report.status }).toEqual({ code: 1, status: 'completed-warnings' });
    expect(problems(r.report)).toContainEqual(
      expect.objectContaining({
        code: 'incomplete-read',
        object: 'domino-people',
        message: expect.stringMatching(/ends in the middle of a line.*none was taken as deleted/),
      }),
    );
    expect(
      r.report.steps.filter((s) => s.type === 'export').reduce((n, s) => n + s.stats.adds! + s.stats.updates! + s.stats.deletes! + s.stats.renames!, 0),
    ).toBe(0);
    expect(contacts()).toBe(before);
  });
});
