/**
 * What an auditor asks, answered from the CLI against a real deployment (slapd as Domino, Samba as AD):
 * for a contact, which person it stands for, which run created it, and every change since with the
 * values before and after. Plus the run history, connector-space searches and the report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { deployWithSlapd, shippedSteps, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

let slapd: Slapd;
let d: Deployment;
let initialRun: number;
let changeRun: number;
beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoPeopleOnly: true }));
  d.addDominoPerson({ given: 'Audra', sn: 'Auditor', mail: 'audra.auditor@notes.acme.test' });
  d.addDominoPerson({ given: 'Basil', sn: 'Bystander', mail: 'basil.bystander@notes.acme.test' });
  await d.addAdMailbox({ given: 'Mona', sn: 'Mailbox', mail: 'mona.mailbox@exchange.acme.test' });
  const first = d.cli(['run', 'initial', '--json']);
  expect(first.report?.status).toBe('success');
  initialRun = first.report!.runId;
  slapd.modify(`dn: cn=Audra Auditor,${d.dominoPeopleOu}\nchangetype: modify\nreplace: sn\nsn: Auditrix\n-\nreplace: title\ntitle: Controller\n`);
  const second = d.cli(['run', 'delta-cycle', '--json']);
  expect(second.report?.status).toBe('success');
  changeRun = second.report!.runId;
});
afterAll(async () => slapd?.stop());

const json = <T>(args: string[]): T => {
  const r = d.cli([...args, '--json']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as T;
};

describe('an auditor asks about one contact', () => {
  const contactDn = (): string => `CN=Audra Auditor,${d.adContactsOu}`;

  it('report: the person it stands for, its source, and the run that created it', () => {
    const report = json<{
      summary: { provisioned: number; joined: number };
      contacts: { agent: string; contact: string; origin: string; person: string; personSource: string; personType: string; createdRun: number }[];
    }>(['report']);
    expect(report.summary).toEqual({ provisioned: 3, joined: 0 });
    expect(report.contacts).toContainEqual(
      expect.objectContaining({
        agent: 'ad-contacts',
        contact: contactDn(),
        origin: 'provisioned',
        personType: 'DominoUser',
        person: `cn=Audra Auditor,${d.dominoPeopleOu}`,
        personSource: 'domino-people',
        createdRun: initialRun,
      }),
    );
    expect(report.contacts).toContainEqual(
      expect.objectContaining({ agent: 'domino-contacts', personType: 'ExchangeUser', personSource: 'ad-mailboxes', createdRun: initialRun }),
    );
    const csv = d.cli(['report', '--section', 'contacts', '--csv']).stdout.split('\r\n');
    expect(csv[0]).toBe('mvId,csId,agent,contact,mail,origin,personType,person,personSource,createdRun,linkedAt');
  });

  it('mv show by the contact DN: attributes with their source, connectors with lineage, every change with before and after', () => {
    const mv = json<{
      objectType: string;
      attributes: { attribute: string; values: string[]; source: string }[];
      connectors: { agent: string; dn: string; link: string; linkedRun: number }[];
      lineage: { event: string; runId: number; agent: string }[];
      history: { runId: number; operation: string; agent: string | null; before: unknown; after: unknown }[];
    }>(['mv', 'show', contactDn()]);
    expect(mv.objectType).toBe('DominoUser');
    expect(mv.attributes).toContainEqual({ attribute: 'sn', values: ['Auditrix'], source: 'domino-people' });
    expect(mv.connectors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agent: 'domino-people', link: 'projection', linkedRun: initialRun }),
        expect.objectContaining({ agent: 'ad-contacts', dn: contactDn(), link: 'provisioning', linkedRun: initialRun }),
      ]),
    );
    expect(mv.lineage.map((l) => [l.agent, l.event, l.runId])).toEqual([
      ['domino-people', 'projection', initialRun],
      ['ad-contacts', 'provisioning', initialRun],
    ]);
    expect(mv.history).toContainEqual(
      expect.objectContaining({
        runId: changeRun,
        operation: 'mv-update',
        before: { sn: ['Auditor'], title: [] },
        after: { sn: ['Auditrix'], title: ['Controller'] },
      }),
    );
    expect(mv.history).toContainEqual(
      expect.objectContaining({
        runId: changeRun,
        agent: 'ad-contacts',
        operation: 'export-update',
        before: expect.objectContaining({ sn: ['Auditor'] }),
        after: expect.objectContaining({ sn: ['Auditrix'] }),
      }),
    );
    // The same object by mail and by #id; the text form names the run and the values.
    expect(json<{ objectType: string }>(['mv', 'show', 'audra.auditor@notes.acme.test']).objectType).toBe('DominoUser');
    const text = d.cli(['mv', 'show', contactDn()]).stdout;
    // Attribute by attribute, before and after.
    expect(text).toMatch(
      new RegExp(
        `run ${changeRun}  mv-update  metaverse DominoUser #\\d+\\n +attribute +before +after\\n[- ]+\\n +sn +Auditor +Auditrix\\n +title +Controller\\n`,
      ),
    );
  });

  it('cs show: the contact as its agent holds it, linked to the person, with its own history', () => {
    const cs = json<{
      agent: string;
      owned: boolean;
      metaverse: { objectType: string; link: string; linkedRun: number };
      history: { operation: string; runId: number }[];
    }>(['cs', 'show', 'ad-contacts', contactDn()]);
    expect(cs).toMatchObject({ agent: 'ad-contacts', owned: true, metaverse: { objectType: 'DominoUser', link: 'provisioning', linkedRun: initialRun } });
    expect(cs.history.map((h) => [h.operation, h.runId])).toEqual(
      expect.arrayContaining([
        ['provision', initialRun],
        ['export-add', initialRun],
        ['export-update', changeRun],
      ]),
    );
  });
});

describe('operators look at runs and connector spaces', () => {
  it('history lists the runs with counts; history show gives the steps, problems and changes of one', () => {
    const runs = json<{ id: number; profile: string; status: string; steps: number }[]>(['history']);
    expect(runs.map((r) => [r.id, r.profile, r.status])).toEqual([
      [changeRun, 'delta-cycle', 'success'],
      [initialRun, 'initial', 'success'],
    ]);
    const one = json<{
      steps: { agent: string; stepType: string; status: string }[];
      errors: unknown[];
      changes: { operation: string; object: string; dn: string | null }[];
    }>(['history', 'show', String(changeRun)]);
    expect(one.steps.map((s) => `${s.agent} ${s.stepType}`)).toContain('ad-contacts export');
    expect(one.changes).toContainEqual(
      expect.objectContaining({ operation: 'export-update', object: expect.any(String), dn: `CN=Audra Auditor,${d.adContactsOu}` }),
    );
    expect(d.cli(['history', 'show', '999']).code).toBe(66);
    expect(d.cli(['history', 'show', 'abc']).code).toBe(64);
  });

  it('mv search and cs search by state', () => {
    expect(json<{ cn: string }[]>(['mv', 'search', '--type', 'DominoUser', '--mail', 'AUDRA*']).map((m) => m.cn)).toEqual(['Audra Auditor']);
    expect(json<{ cn: string }[]>(['mv', 'search', '--where', 'title=control*']).map((m) => m.cn)).toEqual(['Audra Auditor']);
    expect(json<unknown[]>(['mv', 'search', '--where', 'title=nobody'])).toEqual([]);
    expect(json<unknown[]>(['cs', 'search', 'ad-contacts', '--pending-export'])).toEqual([]);
    expect(
      json<{ dn: string }[]>(['cs', 'search', 'ad-contacts'])
        .map((c) => c.dn)
        .sort(),
    ).toEqual([`CN=Audra Auditor,${d.adContactsOu}`, `CN=Basil Bystander,${d.adContactsOu}`]);
  });
});

describe('health and logs', () => {
  it('status is healthy after the cycles; a rule change asks for a full sync until full-cycle has run', () => {
    expect(d.cli(['status']).code).toBe(0);
    const config = parse(readFileSync(d.configFile, 'utf8')) as { rules: Record<string, { exportFlows: Record<string, unknown> }>; logging?: unknown };
    delete config.rules['ad-contacts']!.exportFlows.telephoneNumber;
    config.logging = { file: join(d.dir, 'dirbridge.log'), level: 'info' };
    writeFileSync(d.configFile, stringify(config));
    const stale = d.cli(['status', '--json']);
    expect(stale.code).toBe(1);
    expect((JSON.parse(stale.stdout) as { warnings: string[] }).warnings.join('\n')).toMatch(
      /the rules changed since the last full sync of domino-people \(run \d+, .*\): run full-cycle/,
    );
    expect(d.cli(['run', 'full-cycle', '--json']).report?.status).toBe('success');
    const fresh = d.cli(['status']);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^healthy\n/);
  });

  it('the log file holds one JSON line per run event, without any secret', () => {
    const r = d.cli(['run', 'delta-cycle', '--json', '--log-level', 'silent']);
    expect(r.stderr).toBe('');
    const lines = readFileSync(join(d.dir, 'dirbridge.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; runId: number; level: number; msg: string });
    const mine = lines.filter((l) => l.runId === r.report!.runId);
    expect(mine.map((l) => l.event)).toEqual(['run-started', ...shippedSteps('delta-cycle').map(() => 'step-finished'), 'run-finished']);
    expect(mine.at(-1)!.msg).toBe(`run ${r.report!.runId} (delta-cycle): success`);
    const text = readFileSync(join(d.dir, 'dirbridge.log'), 'utf8');
    expect(text).not.toContain(d.env.AD_PW!);
    expect(text).not.toContain(d.env.DOMINO_PW!);
  });
});
