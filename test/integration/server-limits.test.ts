/**
 * A server whose limits cut an answer short. A full import and a delta import's deletion check keep
 * what they read, conclude no deletion from it, leave the watermark where it was and say so with a
 * named warning (incomplete-read) that names the limit and the fix. A delta import whose change read
 * is cut short fails at once with that message, is not retried as an outage, and moves no watermark.
 * slapd's own limits cut the answers: for the access log (the admin may read 3 of its entries per
 * search), and for a bind account limited to 5 entries.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runners, type RunReportJson } from './harness/coexistence.js';
import { startSlapd, type Slapd } from './harness/slapd.js';

/** Its access log holds 3 entries after set-up: the admin may read that many. */
let logSlapd: Slapd;
/** With readers that have limits of their own. */
let slapd: Slapd;
let dir: string;

const person = (i: number): string =>
  `dn: cn=Limit${i},ou=People,o=Acme\nobjectClass: dominoPerson\ncn: Limit${i}\nsn: Limit\ndominoUNID: ${String(i).padStart(32, '0')}\n`;

beforeAll(async () => {
  logSlapd = await startSlapd({ logSizeLimit: 3 });
  slapd = await startSlapd({
    readers: [
      { name: 'reader', limits: 'size=unlimited' },
      { name: 'limited', limits: 'size=5' },
    ],
  });
  for (const s of [logSlapd, slapd]) s.add('dn: ou=People,o=Acme\nobjectClass: organizationalUnit\nou: People\n');
  dir = mkdtempSync(join(tmpdir(), 'dirbridge-limits-'));
});

afterAll(async () => {
  await logSlapd?.stop();
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A config with one Domino agent bound as `bindDn`, and the store `name`.db. */
function agentConfig(name: string, server: Slapd, bindDn: string, delta: string): ReturnType<typeof runners> {
  const config = join(dir, `${name}-${bindDn.split(',')[0]!.slice(3)}.yaml`);
  writeFileSync(
    config,
    [
      'metaverse:',
      `  file: ${join(dir, `${name}.db`)}`,
      '  objectTypes: { DominoUser: { attributes: [sn] } }',
      'agents:',
      '  people:',
      '    type: domino-ldap',
      `    url: ${server.url}`,
      `    bindDn: ${bindDn}`,
      '    password: { env: LIMITS_PW }',
      '    baseDn: ou=People,o=Acme',
      '    filter: (objectClass=dominoPerson)',
      '    objectClasses: [dominoPerson]',
      '    anchor: dominoUNID',
      '    attributes: [cn, sn]',
      `    delta: ${delta}`,
      'rules: {}',
      'safety: { retry: { attempts: 3, initialDelayMs: 1000 } }',
      '',
    ].join('\n'),
  );
  return runners(config, { ...process.env, LIMITS_PW: slapd.password, DIRBRIDGE_LOG_LEVEL: 'silent' });
}

function readStore<T>(name: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dir, `${name}.db`), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const watermarkOf = (name: string): string | undefined =>
  readStore(name, (db) => db.prepare("SELECT value FROM watermark WHERE agent = 'people'").pluck().get() as string | undefined);

function onlyStep(r: { code: number; stdout: string; stderr: string; report?: RunReportJson }): RunReportJson['steps'][number] {
  const step = r.report?.steps[0];
  if (!step) throw new Error(`no report: exit ${r.code}, stderr ${r.stderr}, stdout ${r.stdout}`);
  return step;
}

it("a delta import cut short by the server's size limit fails clearly, once, and moves no watermark", () => {
  logSlapd.add(person(0)); // with the suffix and the OU, 3 log entries
  const { cli } = agentConfig('log', logSlapd, logSlapd.rootDn, '{ strategy: accesslog }');
  const full = cli(['run-step', 'people', 'full-import', '--json']);
  expect(onlyStep(full).message).toBeUndefined();
  const watermark = watermarkOf('log');
  expect(watermark).toBeDefined();
  for (let i = 1; i < 6; i++) logSlapd.add(person(i));

  const started = Date.now();
  const step = onlyStep(cli(['run-step', 'people', 'delta-import', '--json']));
  expect(step.status).toBe('stopped-error');
  expect(step.message).toMatch(/cut short by the server's limits \(SizeLimitExceededError\).*limits dn\.exact="cn=admin,o=Acme" size=unlimited/);
  expect(step.problems.filter((p) => p.code === 'retried')).toEqual([]);
  expect(Date.now() - started).toBeLessThan(1000 + 15_000); // not retried with backoff
  expect(watermarkOf('log')).toBe(watermark);
});

describe('a bind account the server gives 5 entries per search', () => {
  const wm = (): string | undefined => watermarkOf('limited');
  const held = (): { n: number; deleting: number } =>
    readStore(
      'limited',
      (db) =>
        db.prepare("SELECT COUNT(*) AS n, COUNT(pending_import = 'delete' OR NULL) AS deleting FROM cs_object WHERE agent = 'people'").get() as {
          n: number;
          deleting: number;
        },
    );
  // Both configs share the store: the people imported with the unlimited account, then read with the limited one.
  const unlimited = (): ReturnType<typeof agentConfig> =>
    agentConfig('limited', slapd, `cn=reader,${slapd.suffix}`, '{ strategy: timestamp, overlapSeconds: 0 }');
  const limited = (): ReturnType<typeof agentConfig> =>
    agentConfig('limited', slapd, `cn=limited,${slapd.suffix}`, '{ strategy: timestamp, overlapSeconds: 0 }');
  let watermark: string | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 10; i++) slapd.add(person(i));
    // A person modified a second later: the delta window (no overlap) then holds one person, within the limit.
    await new Promise((r) => setTimeout(r, 1100));
    slapd.modify('dn: cn=Limit9,ou=People,o=Acme\nchangetype: modify\nreplace: sn\nsn: Later\n');
    const full = unlimited().cli(['run-step', 'people', 'full-import', '--json']);
    expect({ status: onlyStep(full).status, adds: onlyStep(full).stats.adds, problems: onlyStep(full).problems }).toEqual({
      status: 'success',
      adds: 10,
      problems: [],
    });
    watermark = wm();
  });

  it('a full import cut short imports what it read, deletes nothing, keeps its watermark and warns', () => {
    const r = limited().cli(['run-step', 'people', 'full-import', '--json']);
    const step = onlyStep(r);
    expect({ status: step.status, code: r.code, deletes: step.stats.deletes }).toEqual({ status: 'completed-warnings', code: 1, deletes: 0 });
    expect(step.problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'incomplete-read',
        object: 'people',
        message: expect.stringMatching(
          /full import of ou=People,o=Acme was cut short by the server's limits \(SizeLimitExceededError\).*limits dn\.exact="cn=limited,o=Acme" size=unlimited.*none was taken as deleted and the watermark was not advanced/,
        ),
      }),
    ]);
    expect(held()).toEqual({ n: 10, deleting: 0 });
    expect(wm()).toBe(watermark);
  });

  it("a deletion check cut short takes nothing as deleted and keeps the delta's watermark; the next complete check finds the deletion", () => {
    slapd.modify('dn: cn=Limit3,ou=People,o=Acme\nchangetype: delete\n');
    const r = limited().cli(['run-step', 'people', 'delta-import', '--json']);
    const step = onlyStep(r);
    expect({ status: step.status, deletes: step.stats.deletes, gone: step.stats.deletionCheckGone }).toEqual({
      status: 'completed-warnings',
      deletes: 0,
      gone: 0,
    });
    expect(step.problems).toEqual([
      expect.objectContaining({
        code: 'incomplete-read',
        message: expect.stringMatching(
          /deletion check of ou=People,o=Acme was cut short .*SizeLimitExceededError.*No object was taken as deleted, and the delta import's watermark was not advanced/,
        ),
      }),
    ]);
    expect(held()).toEqual({ n: 10, deleting: 0 });
    expect(wm()).toBe(watermark);

    const complete = onlyStep(unlimited().cli(['run-step', 'people', 'delta-import', '--json']));
    expect({ status: complete.status, read: complete.stats.deletionCheckRead, gone: complete.stats.deletionCheckGone }).toEqual({
      status: 'success',
      read: 9,
      gone: 1,
    });
    // Never synchronized (this config has no rules), so its connector-space row goes at once.
    expect(held()).toEqual({ n: 9, deleting: 0 });
    expect(readStore('limited', (db) => db.prepare("SELECT COUNT(*) FROM cs_object WHERE dn = 'cn=Limit3,ou=People,o=Acme'").pluck().get())).toBe(0);
  });
});
