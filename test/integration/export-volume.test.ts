/**
 * An export of more contacts than one chunk (64) and one recording batch (32): every outcome is
 * recorded, whatever the order the directory answers in. Nothing stays pending or marked as sent,
 * and the confirming import finds every contact as exported.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const PEOPLE = 150;
let slapd: Slapd;
let d: Deployment;

beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoPeopleOnly: true }));
  for (let i = 0; i < PEOPLE; i++) d.addDominoPerson({ given: `Volume${i}`, sn: 'Export', mail: `volume${i}@notes.acme.test` });
});

afterAll(async () => {
  await slapd?.stop();
});

it(`exports ${PEOPLE} contacts and records each outcome exactly once`, async () => {
  const r = await d.cliAsync(['run', 'initial', '--json']);
  const report = JSON.parse(r.stdout) as { status: string; steps: { agent: string; type: string; stats: Record<string, number>; problems: unknown[] }[] };
  expect({ code: r.code, status: report.status, stderr: r.stderr }).toEqual({ code: 0, status: 'success', stderr: '' });
  // The contacts waiting for their export have nothing to synchronize: counted, not processed.
  const contactSync = report.steps.find((s) => s.agent === 'ad-contacts' && s.type === 'full-sync')!;
  expect({ unchanged: contactSync.stats.unchanged, errors: contactSync.stats.errors }).toEqual({ unchanged: PEOPLE, errors: 0 });
  const exportStep = report.steps.find((s) => s.agent === 'ad-contacts' && s.type === 'export')!;
  expect({ adds: exportStep.stats.adds, errors: exportStep.stats.errors, problems: exportStep.problems }).toEqual({ adds: PEOPLE, errors: 0, problems: [] });
  const confirm = report.steps.filter((s) => s.agent === 'ad-contacts' && s.type === 'full-import').at(-1)!;
  expect({ unchanged: confirm.stats.unchanged, adds: confirm.stats.adds, errors: confirm.stats.errors }).toEqual({ unchanged: PEOPLE, adds: 0, errors: 0 });

  const db = new Database(join(d.dir, 'metaverse.db'), { readonly: true });
  try {
    expect(db.prepare("SELECT COUNT(*) FROM pending_export WHERE agent = 'ad-contacts'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM cs_object WHERE agent = 'ad-contacts' AND (provisioned = 1 OR anchor IS NULL)").pluck().get()).toBe(0);
  } finally {
    db.close();
  }
  const contacts = await d.adSearch(d.adContactsOu, '(objectClass=contact)');
  expect(contacts).toHaveLength(PEOPLE);
  // Each add carried its contact's attributes (read from the provisioned image when it was sent).
  expect(new Set(contacts.map((c) => String(c.mail)))).toEqual(new Set(Array.from({ length: PEOPLE }, (_, i) => `volume${i}@notes.acme.test`)));
});
