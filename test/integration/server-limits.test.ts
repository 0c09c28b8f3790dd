/**
 * A server whose size limit cuts an answer short: the step fails at once with a message that names
 * the limit and the fix, is not retried as an outage, and concludes nothing (the watermark stays)
 * from the partial answer. The admin may read 3 access-log entries per search: the full import reads
 * a log of 3 entries; the delta after 5 more writes is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runners, watermarkReader } from './harness/coexistence.js';
import { startSlapd, type Slapd } from './harness/slapd.js';

let slapd: Slapd;
let dir: string;

const person = (i: number): string => `dn: cn=Limit${i},ou=People,o=Acme\nobjectClass: dominoPerson\ncn: Limit${i}\nsn: Limit\ndominoUNID: ${String(i).padStart(32, '0')}\n`;

beforeAll(async () => {
  slapd = await startSlapd({ logSizeLimit: 3 });
  slapd.add('dn: ou=People,o=Acme\nobjectClass: organizationalUnit\nou: People\n');
  slapd.add(person(0)); // with the suffix and the OU, 3 log entries
  dir = mkdtempSync(join(tmpdir(), 'dirbridge-limits-'));
});

afterAll(async () => {
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("a delta import cut short by the server's size limit fails clearly, once, and moves no watermark", () => {
  const config = join(dir, 'dirbridge.yaml');
  writeFileSync(
    config,
    [
      'metaverse:',
      `  file: ${join(dir, 'metaverse.db')}`,
      '  objectTypes: { DominoUser: { attributes: [sn] } }',
      'agents:',
      '  people:',
      '    type: domino-ldap',
      `    url: ${slapd.url}`,
      `    bindDn: ${slapd.rootDn}`,
      '    password: { env: LIMITS_PW }',
      '    baseDn: ou=People,o=Acme',
      '    objectClasses: [dominoPerson]',
      '    anchor: dominoUNID',
      '    attributes: [cn, sn]',
      '    delta: { strategy: accesslog }',
      'rules: {}',
      'safety: { retry: { attempts: 3, initialDelayMs: 1000 } }',
      '',
    ].join('\n'),
  );
  const { cli } = runners(config, { ...process.env, LIMITS_PW: slapd.password, DIRBRIDGE_LOG_LEVEL: 'silent' });
  const full = cli(['run-step', 'people', 'full-import', '--json']);
  expect(full.report?.steps[0]?.message).toBeUndefined();
  const watermark = watermarkReader(dir)('people');
  expect(watermark).toBeDefined();
  for (let i = 1; i < 6; i++) slapd.add(person(i));

  const started = Date.now();
  const r = cli(['run-step', 'people', 'delta-import', '--json']);
  const step = r.report?.steps[0];
  if (!step) throw new Error(`no report: exit ${r.code}, stderr ${r.stderr}, stdout ${r.stdout}`);
  expect(step?.status).toBe('stopped-error');
  expect(step?.message).toMatch(/cut short by the server's limits \(SizeLimitExceededError\).*limits dn\.exact="cn=admin,o=Acme" size=unlimited/);
  expect(step?.problems.filter((p) => p.code === 'retried')).toEqual([]);
  expect(Date.now() - started).toBeLessThan(1000 + 15_000); // not retried with backoff
  expect(watermarkReader(dir)('people')).toBe(watermark);
});
