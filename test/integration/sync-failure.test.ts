/**
 * One object that cannot be stored while its sync batch runs: the batch is rolled back and replayed
 * object by object, so the failure costs that object alone. It is reported once, the step's counts
 * are those of what was really done, and the object is synchronized by the next sync once the fault
 * is gone. The fault is real: a SQLite trigger that refuses the object's metaverse row.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { quickstartCopy } from './harness/quickstart.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

interface StepJson {
  status: string;
  stats: Record<string, number>;
  problems: { severity: string; object: string; code: string; message: string }[];
}

function step(config: string, agent: string, type: string): StepJson {
  const r = spawnSync(process.execPath, [CLI, '--config', config, 'run-step', agent, type, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' },
  });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`run-step ${agent} ${type}: exit ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { steps: StepJson[] }).steps[0]!;
}

it('a failing object in a sync batch costs that object alone, is reported once and is synchronized once the fault is gone', () => {
  const { config, dir } = quickstartCopy();
  const imported = step(config, 'domino-people', 'full-import');
  const people = imported.stats.adds!;
  // The contact agents are read first: nothing is provisioned into a directory never read.
  for (const contacts of ['ad-contacts', 'domino-contacts']) expect(step(config, contacts, 'full-import').status).toBe('success');
  expect(people).toBeGreaterThan(5);

  const db = new Database(join(dir, 'work/metaverse.db'));
  const inScope = (): number => db.prepare("SELECT COUNT(*) FROM mv_object WHERE object_type = 'DominoUser'").pluck().get() as number;
  db.exec(`CREATE TRIGGER injected_fault BEFORE INSERT ON mv_object WHEN NEW.attributes LIKE '%Bob Baker%'
           BEGIN SELECT RAISE(ABORT, 'injected fault: this row cannot be stored'); END`);

  const failed = step(config, 'domino-people', 'full-sync');
  // Each problem once: the replay of the batch does not report again what its first attempt reported.
  // (The quickstart's people include one without mail and one with an invalid address, on purpose.)
  expect(failed.problems.map((p) => ({ code: p.code, object: p.object, fault: p.message.includes('injected fault') }))).toEqual([
    { code: 'sync-failed', object: 'cn=Bob Baker,ou=Sales,o=Acme', fault: true },
    { code: 'missing-attribute', object: 'DominoUser cn=Norma Nomail,ou=Sales,o=Acme (domino-people)', fault: false },
    { code: 'invalid-smtp-address', object: 'DominoUser cn=Ivan Invalid,ou=Sales,o=Acme (domino-people)', fault: false },
  ]);
  const projected = inScope();
  // The counts are what was done, not what the rolled-back first attempt of the batch had counted.
  expect({ projections: failed.stats.projections, provisions: failed.stats.provisions, errors: failed.stats.errors }).toEqual({
    projections: projected,
    provisions: projected - 2,
    errors: 3,
  });
  const bob = db.prepare("SELECT mv_id, pending_import FROM cs_object WHERE agent = 'domino-people' AND dn = 'cn=Bob Baker,ou=Sales,o=Acme'").get();
  expect(bob).toEqual({ mv_id: null, pending_import: 'add' });
  expect(db.prepare("SELECT COUNT(*) FROM pending_export WHERE agent = 'ad-contacts'").pluck().get()).toBe(projected - 2);
  expect(db.prepare('SELECT COUNT(*) FROM run_error WHERE code = ?').pluck().get('sync-failed')).toBe(1);

  db.exec('DROP TRIGGER injected_fault');
  const again = step(config, 'domino-people', 'delta-sync');
  expect({ problems: again.problems.map((p) => p.code), projections: again.stats.projections }).toEqual({ problems: [], projections: 1 });
  expect(inScope()).toBe(projected + 1);
  db.close();
});
