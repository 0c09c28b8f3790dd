/**
 * A directory that goes away in the middle of a step. A short outage is retried with backoff after
 * reconnecting, and the run completes; a server that stays away stops the step with
 * stopped-server-down, the watermark stays where it was, and the next run completes. Either way
 * nothing is lost or written twice. The Domino agents reach slapd through a relay that cuts the
 * connection after a given number of bytes.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deploy, type Deployment, type RunReportJson } from './harness/coexistence.js';
import { startFaultProxy, type FaultProxy } from './harness/proxy.js';
import { startSlapd, type Slapd } from './harness/slapd.js';

/** The relays run in this process: the CLI must run asynchronously, or they could not relay. */
async function cli(args: string[]): Promise<{ code: number; report: RunReportJson }> {
  const r = await d.cliAsync(args);
  return { code: r.code, report: JSON.parse(r.stdout) as RunReportJson };
}

let slapd: Slapd;
let d: Deployment;
let peopleLink: FaultProxy;
let contactsLink: FaultProxy;
const PEOPLE = 40;

beforeAll(async () => {
  const samba = inject('samba');
  if (!samba) throw new Error('the Samba AD domain controller was not started by the global setup');
  slapd = await startSlapd();
  const port = Number(new URL(slapd.url).port);
  peopleLink = await startFaultProxy(port);
  contactsLink = await startFaultProxy(port);
  d = await deploy(slapd, samba, {
    dominoPeopleOnly: true,
    urls: { 'domino-people': peopleLink.url, 'domino-contacts': contactsLink.url },
    // Two retries, 0.5-1 s then 1-2 s apart: a 200 ms outage is bridged, a lasting one gives up quickly.
    safety: { retry: { attempts: 2, initialDelayMs: 500, maxDelayMs: 1000 } },
    // The cuts below are placed by bytes in the change read; the deletion check reads first, so it runs
    // in the first delta cycle only (and where a test asks for it by clearing its record).
    dominoPeopleDelta: { sweepEveryMinutes: 1440 },
  });
  for (let i = 0; i < PEOPLE; i++) d.addDominoPerson({ given: `Fault${i}`, sn: 'Line', mail: `fault${i}@notes.acme.test` });
  const first = await cli(['run', 'initial', '--json']);
  expect({ status: first.report?.status, messages: first.report?.steps.map((s) => s.message).filter(Boolean) }).toEqual({ status: 'success', messages: [] });
});

afterAll(async () => {
  await peopleLink?.stop();
  await contactsLink?.stop();
  await slapd?.stop();
});

const contactMails = async (): Promise<string[]> => {
  const c = new Client({ url: slapd.url });
  await c.bind(slapd.rootDn, slapd.password);
  const { searchEntries } = await c.search(d.dominoContactsOu, { scope: 'sub', filter: '(objectClass=dominoPerson)', attributes: ['mailaddress'] });
  await c.unbind();
  return searchEntries.map((e) => String(e.mailaddress)).sort();
};

describe('a short outage mid-step is retried', () => {
  it('during an import: the read resumes after reconnecting and the run completes with the retry reported', async () => {
    slapd.modify(
      Array.from({ length: PEOPLE }, (_, i) => `dn: cn=Fault${i} Line,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Retried\n`).join('\n'),
    );
    peopleLink.cutAfter(5000, 200);
    const r = await cli(['run', 'delta-cycle', '--json']);
    expect(peopleLink.cut()).toBe(true);
    expect(r.report.status).toBe('completed-warnings');
    const problems = r.report.steps.flatMap((s) => s.problems);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.code === 'retried' && p.severity === 'warning')).toBe(true);
    expect(problems[0]!.message).toMatch(/delta import of domino-people failed .*retrying/);
    const titles = (await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['title'])).map((c) => c.title);
    expect(titles).toEqual(Array(PEOPLE).fill('Retried'));
  });

  it('during an export: in-doubt adds are settled with the directory, and every contact is written once', async () => {
    for (let i = 0; i < 12; i++) await d.addAdMailbox({ given: `Blip${i}`, sn: 'Mailbox', mail: `blip${i}@exchange.acme.test` });
    contactsLink.cutAfter(1500, 200);
    const r = await cli(['run', 'delta-cycle', '--json']);
    expect(contactsLink.cut()).toBe(true);
    expect(r.report.status).toBe('completed-warnings');
    const exported = r.report.steps.find((s) => s.agent === 'domino-contacts' && s.type === 'export')!;
    expect(exported.problems.map((p) => p.code)).toContain('retried');
    expect(exported.problems.every((p) => p.code === 'retried' || p.code === 'export-outcome-reconciled')).toBe(true);
    expect((await contactMails()).filter((m) => m.startsWith('blip'))).toEqual(Array.from({ length: 12 }, (_, i) => `blip${i}@exchange.acme.test`).sort());
    expect((await cli(['run', 'delta-cycle', '--json'])).report.status).toBe('success');
  });
});

describe('a directory that stays away mid-step', () => {
  it('during the deletion check: after the retries the step stops, nothing is taken as deleted, the watermark stays, the next run completes', async () => {
    const gone = d.addDominoPerson({ given: 'Gone', sn: 'Soon', mail: 'gone.soon@notes.acme.test' });
    expect((await cli(['run', 'delta-cycle', '--json'])).report.status).toBe('success');
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length).toBe(PEOPLE + 1);
    // Asks for the check now, and gives it a deletion to find, which it must not conclude from a broken read.
    const db = new Database(join(d.dir, 'metaverse.db'));
    db.prepare("DELETE FROM deletion_check WHERE agent = 'domino-people'").run();
    db.close();
    slapd.modify(`dn: ${gone}\nchangetype: delete\n`);
    const before = d.watermark('domino-people');
    peopleLink.cutAfter(1500); // the root DSE, then part of the anchors
    const r = await cli(['run', 'delta-cycle', '--json']);
    expect(peopleLink.cut()).toBe(true);
    expect({ status: r.report.status, code: r.code }).toEqual({ status: 'stopped-server-down', code: 3 });
    const step = r.report.steps[0]!;
    expect({ deletes: step.stats.deletes, gone: step.stats.deletionCheckGone }).toEqual({ deletes: 0, gone: 0 });
    expect(step.problems.filter((p) => p.code === 'retried').map((p) => p.message)).toEqual([
      expect.stringMatching(/^deletion check of domino-people failed/),
      expect.stringMatching(/^deletion check of domino-people failed/),
    ]);
    expect(d.watermark('domino-people')).toEqual(before);
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length).toBe(PEOPLE + 1);

    peopleLink.restore();
    expect((await cli(['run', 'delta-cycle', '--json'])).report.status).toBe('success');
    expect((await d.adSearch(d.adContactsOu, '(mail=gone.soon@notes.acme.test)', ['cn'])).length).toBe(0);
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['cn'])).length).toBe(PEOPLE);
  });

  it('during an import: after the retries the step stops, the watermark stays, the next run completes', async () => {
    slapd.modify(
      Array.from({ length: PEOPLE }, (_, i) => `dn: cn=Fault${i} Line,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Moved on\n`).join('\n'),
    );
    const before = d.watermark('domino-people');
    peopleLink.cutAfter(5000); // a few pages of the 40 changed people, then the connection dies
    const r = await cli(['run', 'delta-cycle', '--json']);
    expect(peopleLink.cut()).toBe(true);
    expect(r.report?.status).toBe('stopped-server-down');
    expect(r.code).toBe(3);
    const step = r.report!.steps[0]!;
    expect(step.stats.updates).toBeGreaterThan(0); // it really stopped in the middle
    expect(step.stats.updates).toBeLessThan(PEOPLE);
    expect(d.watermark('domino-people')).toEqual(before);
    expect(step.problems.filter((p) => p.code === 'retried')).toHaveLength(2);

    peopleLink.restore();
    expect((await cli(['run', 'delta-cycle', '--json'])).report.status).toBe('success');
    const titles = (await d.adSearch(d.adContactsOu, '(objectClass=contact)', ['title'])).map((c) => c.title);
    expect(titles).toEqual(Array(PEOPLE).fill('Moved on'));
  });

  it('during an export: after the retries the step stops, and the next run writes every contact exactly once', async () => {
    for (let i = 0; i < 12; i++) await d.addAdMailbox({ given: `Cut${i}`, sn: 'Mailbox', mail: `cut${i}@exchange.acme.test` });
    contactsLink.cutAfter(1500); // some adds (each with its read-back) go through, then the server is gone
    const r = await cli(['run', 'delta-cycle', '--json']);
    expect(contactsLink.cut()).toBe(true);
    expect(r.report?.status).toBe('stopped-server-down');
    const exported = r.report!.steps.find((s) => s.agent === 'domino-contacts' && s.type === 'export')!;
    expect(exported.stats.adds).toBeLessThan(12);

    contactsLink.restore();
    const again = await cli(['run', 'delta-cycle', '--json']);
    expect(again.report?.status === 'success' || again.report?.status === 'completed-warnings').toBe(true);
    expect(again.report.steps.flatMap((s) => s.problems).filter((p) => p.code !== 'export-outcome-reconciled')).toEqual([]);
    expect((await contactMails()).filter((m) => m.startsWith('cut'))).toEqual(Array.from({ length: 12 }, (_, i) => `cut${i}@exchange.acme.test`).sort());
  });
});
