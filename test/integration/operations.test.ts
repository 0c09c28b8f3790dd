/**
 * What operators and auditors ask after the fact, against a real deployment (slapd as Domino, Samba
 * as AD): who started a run and what its counts mean, a person who left still findable with her last
 * image and history, the change log searched, status after a stopped cycle, the per-agent view, and
 * the command line's conventions (exit codes, truncation, CSV for spreadsheets, config discovery,
 * completion, terminal logs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const PEOPLE = ['Olga', 'Pia', 'Quinn', 'Rosa', 'Sven'];
const FORMULA = '=HYPERLINK("http://evil.example","click")';

let slapd: Slapd;
let d: Deployment;
let initialRun: number;
let leaveRun: number;

const json = <T>(args: string[]): T => {
  const r = d.cli([...args, '--json']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoDelta: 'accesslog', dominoPeopleOnly: true, safety: { deletionThreshold: { count: 2, percent: 100 } } }));
  for (const given of PEOPLE) d.addDominoPerson({ given, sn: 'Ops', mail: `${given.toLowerCase()}.ops@notes.acme.test` });
  const first = d.cli(['run', 'initial', '--json']);
  expect(first.report?.status).toBe('success');
  initialRun = first.report!.runId;
  // Olga leaves; her title was changed first, to a value a spreadsheet would run.
  slapd.modify(`dn: cn=Olga Ops,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: ${FORMULA}\n`);
  expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
  slapd.modify(`dn: cn=Olga Ops,${d.dominoPeopleOu}\nchangetype: delete\n`);
  const leave = d.cli(['run', 'delta-cycle', '--json']);
  expect(leave.report?.status).toBe('success');
  leaveRun = leave.report!.runId;
});
afterAll(async () => slapd?.stop());

describe('the run history', () => {
  it('records who started each run, and counts a person who left once per phase, never added together', () => {
    const runs = json<{ id: number; startedBy: string; imported: number; metaverseChanges: number; adds: number; updates: number; deletes: number }[]>([
      'history',
    ]);
    const leave = runs.find((r) => r.id === leaveRun)!;
    expect(leave.startedBy).toMatch(new RegExp(`^${userInfo().username}.*@.+ \\(command line\\)$`));
    expect(leave).toMatchObject({ imported: 1, metaverseChanges: 1, adds: 0, updates: 0, deletes: 1 });
    const initial = runs.find((r) => r.id === initialRun)!;
    expect(initial).toMatchObject({ adds: PEOPLE.length, deletes: 0 });
    const shown = json<{ startedBy: { trigger: string; user: string; command: string; pid: number } }>(['history', 'show', String(leaveRun)]);
    expect(shown.startedBy).toMatchObject({ trigger: 'command line', command: expect.stringMatching(/^--config .* run delta-cycle --json$/) });
    expect(d.cli(['history', 'show', String(leaveRun)]).stdout).toMatch(/\nstarted by .+ \(command line\), pid \d+: --config .* run delta-cycle --json\n/);
  });
});

describe('a person who left', () => {
  it('is still found by mail, with her last image, lineage and history, and marked deleted', () => {
    const mv = json<{
      id: number;
      deleted?: { runId: number; reason: string };
      attributes: { attribute: string; values: string[] }[];
      lineage: { agent: string; event: string }[];
      history: { operation: string; agent: string | null; dn: string | null }[];
    }>(['mv', 'show', 'olga.ops@notes.acme.test']);
    expect(mv.deleted).toMatchObject({ runId: leaveRun, reason: expect.stringMatching(/domino-people/) });
    expect(mv.attributes).toContainEqual(expect.objectContaining({ attribute: 'title', values: [FORMULA] }));
    expect(mv.lineage.map((l) => `${l.agent} ${l.event}`)).toEqual(expect.arrayContaining(['domino-people projection', 'ad-contacts provisioning']));
    expect(mv.history.map((h) => h.operation)).toEqual(expect.arrayContaining(['mv-add', 'mv-update', 'mv-delete', 'export-add', 'export-delete']));
    // Her contact's changes name it by DN, though the contact is gone.
    expect(mv.history.find((h) => h.operation === 'export-delete')?.dn).toBe(`CN=Olga Ops,${d.adContactsOu}`);
    // By #id and by the DN her contact had, too; the text says DELETED.
    expect(json<{ deleted?: unknown }>(['mv', 'show', `#${mv.id}`]).deleted).toBeDefined();
    expect(json<{ id: number }>(['mv', 'show', `CN=Olga Ops,${d.adContactsOu}`]).id).toBe(mv.id);
    expect(d.cli(['mv', 'show', 'olga.ops@notes.acme.test']).stdout).toMatch(/^DominoUser #\d+: DELETED .* by run \d+/);
  });

  it('the change log is searched by object, agent, run, time and operation', () => {
    const byObject = json<{ operation: string }[]>(['changes', '--object', 'olga.ops@notes.acme.test']);
    expect(byObject.map((c) => c.operation)).toEqual(expect.arrayContaining(['import-add', 'mv-add', 'export-add', 'mv-update', 'mv-delete', 'export-delete']));
    const deletes = json<{ agent: string; runId: number; dn: string }[]>([
      'changes',
      '--agent',
      'ad-contacts',
      '--operation',
      'export-delete',
      '--since',
      '1h',
    ]);
    expect(deletes).toEqual([expect.objectContaining({ agent: 'ad-contacts', runId: leaveRun, dn: `CN=Olga Ops,${d.adContactsOu}` })]);
    expect(json<unknown[]>(['changes', '--run', String(leaveRun), '--operation', 'mv-delete'])).toHaveLength(1);
    expect(json<unknown[]>(['changes', '--until', '2000-01-01'])).toEqual([]);
    expect(json<unknown[]>(['changes', '--object', 'nobody@nowhere.test'])).toEqual([]);
  });

  it('CSV shows a value a spreadsheet would run as text, and --excel adds the byte-order mark', () => {
    const csv = d.cli(['changes', '--object', 'olga.ops@notes.acme.test', '--operation', 'mv-update', '--csv']).stdout;
    expect(csv.split('\r\n')[0]).toBe('change,at,run,where,object,operation,attribute,before,after');
    expect(csv).toContain(`"title","","'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csv).not.toMatch(/,"=HYPERLINK/);
    const excel = d.cli(['report', '--section', 'contacts', '--excel']).stdout;
    expect(excel.startsWith('\uFEFFmvId,csId,agent,contact')).toBe(true);
  });
});

describe('status and the per-agent view after a cycle stopped by the deletion threshold', () => {
  it('status needs attention with the reason; agents shows the held deletions; --allow-deletes clears both', async () => {
    slapd.modify(
      PEOPLE.slice(1, 4)
        .map((g) => `dn: cn=${g} Ops,${d.dominoPeopleOu}\nchangetype: delete\n`)
        .join('\n'),
    );
    const stopped = d.cli(['run', 'delta-cycle', '--json']);
    expect(stopped.report?.status).toBe('stopped-deletion-threshold-exceeded');
    const status = d.cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^needs attention\n/);
    expect(status.stdout).toMatch(
      new RegExp(
        `warning: delta-cycle: its last run ${stopped.report!.runId} \\(.*\\) ended stopped-deletion-threshold-exceeded: 3 deletions are pending for ad-contacts`,
      ),
    );
    const [contacts] = json<
      { agent: string; objects: number; connectors: number; disconnectors: number; pendingExports: { delete: number }; lastStep: { status: string } }[]
    >(['agents', 'ad-contacts']);
    expect(contacts).toMatchObject({
      agent: 'ad-contacts',
      objects: 4,
      pendingExports: { delete: 3 },
      lastStep: { status: 'stopped-deletion-threshold-exceeded' },
    });
    expect(contacts!.connectors + contacts!.disconnectors).toBe(4);
    const text = d.cli(['agents']).stdout;
    expect(text).toMatch(/\nad-contacts +ad-ldap +4 /);
    expect(d.cli(['run', 'delta-cycle', '--allow-deletes', '3', '--json']).report?.status).toBe('success');
    expect(d.cli(['status']).code).toBe(0);
    expect(json<{ pendingExports: { delete: number } }[]>(['agents', 'ad-contacts'])[0]!.pendingExports.delete).toBe(0);
  });
});

describe('decisions the rules cannot make (the Joiner), each recorded as a run', () => {
  const contact = (given: string): string => `CN=${given} Ops,${d.adContactsOu}`;
  const inAd = async (given: string): Promise<boolean> => (await d.adSearch(d.adContactsOu, `(cn=${given} Ops)`)).length === 1;

  it('cs disconnect keeps the contact and keeps rules off it; cs join links it back', async () => {
    expect(d.cli(['cs', 'disconnect', 'ad-contacts', contact('Sven')]).code).toBe(64); // --reason is required
    const off = d.cli(['cs', 'disconnect', 'ad-contacts', contact('Sven'), '--reason', 'ticket 17: wrong person']);
    expect({ code: off.code, stderr: off.stderr }).toEqual({ code: 0, stderr: '' });
    expect(off.stdout).toMatch(/disconnected from #\d+\nrecorded as run \d+/);
    // The person still stands: the next delta cycle wants a contact at the DN the disconnected one holds.
    const next = d.cli(['run', 'delta-cycle', '--json']);
    expect(next.report?.status).toBe('completed-errors');
    expect(next.report!.steps.flatMap((s) => s.problems.map((p) => p.code))).toContain('dn-collision');
    expect(await inAd('Sven')).toBe(true);
    const { orphans } = json<{ orphans: { contact: string; why: string }[] }>(['report', '--section', 'orphans']);
    expect(orphans).toContainEqual({
      agent: 'ad-contacts',
      contact: contact('Sven'),
      why: expect.stringMatching(/^disconnected by hand by .+: ticket 17: wrong person$/),
    });

    const back = d.cli(['cs', 'join', 'ad-contacts', contact('Sven'), 'sven.ops@notes.acme.test', '--reason', 'ticket 17: right after all']);
    expect({ code: back.code, stderr: back.stderr }).toEqual({ code: 0, stderr: '' });
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    const mv = json<{ connectors: { agent: string; dn: string }[]; lineage: { event: string; detail: string | null }[] }>([
      'mv',
      'show',
      'sven.ops@notes.acme.test',
    ]);
    expect(mv.connectors.map((c) => c.dn)).toContain(contact('Sven'));
    expect(mv.lineage.slice(-2).map((l) => l.event)).toEqual(['manual-disconnect', 'join']);
    expect(mv.lineage.at(-1)!.detail).toMatch(/^joined by hand by .+: ticket 17: right after all$/);
    const runs = json<{ profile: string; status: string }[]>(['history']);
    expect(runs.map((r) => r.profile)).toEqual(expect.arrayContaining(['manual-disconnect', 'manual-join']));
  });

  it('refuses what would break the rules, changing nothing: a source object, a linked object, an unknown person', () => {
    const source = d.cli(['cs', 'disconnect', 'domino-people', `cn=Sven Ops,${d.dominoPeopleOu}`, '--reason', 'x']);
    expect(source.code).toBe(64);
    expect(source.stderr).toMatch(/is a source object of domino-people .*would delete its metaverse object/);
    expect(d.cli(['cs', 'join', 'ad-contacts', contact('Sven'), 'sven.ops@notes.acme.test', '--reason', 'x']).stderr).toMatch(
      /is linked to metaverse object #\d+ already/,
    );
    const unknown = d.cli(['cs', 'join', 'ad-contacts', 'CN=Nobody,OU=x', 'sven.ops@notes.acme.test', '--reason', 'x']);
    expect(unknown.code).toBe(66);
    const refused = JSON.parse(d.cli(['history', '--limit', '3', '--json']).stdout) as { profile: string; status: string }[];
    expect(refused.map((r) => r.status)).toEqual(['refused', 'refused', 'refused']);
    expect(d.cli(['status']).code).toBe(0);
  });

  it('discard-deletions keeps held contacts for good after review: no later run deletes them', async () => {
    for (const given of ['Tom', 'Uma', 'Vic']) d.addDominoPerson({ given, sn: 'Ops', mail: `${given.toLowerCase()}.ops@notes.acme.test` });
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    slapd.modify(['Tom', 'Uma', 'Vic'].map((g) => `dn: cn=${g} Ops,${d.dominoPeopleOu}\nchangetype: delete\n`).join('\n'));
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('stopped-deletion-threshold-exceeded');
    const discarded = d.cli(['discard-deletions', 'ad-contacts', '--reason', 'the Domino server lost them; kept until HR confirms']);
    expect({ code: discarded.code, stderr: discarded.stderr }).toEqual({ code: 0, stderr: '' });
    expect(discarded.stdout.match(/deletion discarded, the object stays/g)).toHaveLength(3);
    for (const profile of ['delta-cycle', 'full-cycle']) expect(d.cli(['run', profile, '--json']).report?.status).toBe('success');
    for (const given of ['Tom', 'Uma', 'Vic']) expect(await inAd(given)).toBe(true);
    expect(json<{ pendingExports: { delete: number } }[]>(['agents', 'ad-contacts'])[0]!.pendingExports.delete).toBe(0);
    expect(d.cli(['status']).code).toBe(0);
    const changes = json<{ operation: string; after: { reason: string } }[]>(['changes', '--operation', 'deletion-discarded']);
    expect(changes).toHaveLength(3);
    expect(d.cli(['discard-deletions', 'ad-contacts', '--reason', 'again']).stderr).toMatch(/no deletion is pending for ad-contacts/);
  });
});

describe('command-line conventions', () => {
  it('one exit code per meaning: not found 66, a wrong call 64; a cut list says so on stderr', () => {
    expect(d.cli(['mv', 'show', 'nobody@nowhere.test']).code).toBe(66);
    expect(d.cli(['cs', 'show', 'ad-contacts', 'CN=Nobody']).code).toBe(66);
    expect(d.cli(['cs', 'search', 'no-such-agent']).code).toBe(64);
    expect(d.cli(['agents', 'no-such-agent']).code).toBe(64);
    expect(d.cli(['mv', 'search', '--limit', 'abc']).code).toBe(64);
    expect(d.cli(['changes', '--since', 'yesterday']).code).toBe(64);
    expect(d.cli(['history', '--offset', '-1']).code).toBe(64);
    const cut = d.cli(['changes', '--limit', '1']);
    expect(cut.code).toBe(0);
    expect(cut.stderr).toBe('dirbridge: showing the first 1; more match (--offset 1 for the next ones)\n');
    expect(d.cli(['history', '--limit', '1']).stderr).toMatch(
      /^dirbridge: showing the first 1; more match \(\d+ runs in all; --limit or --offset to see others\)\n$/,
    );
    expect(d.cli(['history', '--limit', '1000']).stderr).toBe('');
  });

  it('finds its config through DIRBRIDGE_CONFIG, then ./dirbridge.yaml; without one it names where it looked (78)', () => {
    const run = (cwd: string, env: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, [CLI, 'history', '--json'], { cwd, env: { ...d.env, ...env }, encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const elsewhere = mkdtempSync(join(tmpdir(), 'dirbridge-cwd-'));
    expect(run(elsewhere, { DIRBRIDGE_CONFIG: d.configFile }).code).toBe(0);
    expect(run(d.dir, { DIRBRIDGE_CONFIG: '' }).code).toBe(0); // d.dir holds dirbridge.yaml
    const none = run(elsewhere, { DIRBRIDGE_CONFIG: '' });
    expect(none.code).toBe(78);
    expect(none.stderr).toContain(`looked for ${join(elsewhere, 'dirbridge.yaml')} and /etc/dirbridge/dirbridge.yaml`);
  });

  it('bash completion offers the commands and options the command tree has', () => {
    const script = d.cli(['completion', 'bash']).stdout;
    const file = join(d.dir, 'completion.bash');
    writeFileSync(file, script);
    const complete = (...words: string[]): string[] => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(dirbridge ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _dirbridge; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      return r.stdout.trim().split(/\s+/);
    };
    expect(complete('mv', '')).toEqual(expect.arrayContaining(['search', 'show']));
    expect(complete('ch')).toEqual(['changes']);
    expect(complete('changes', '--ob')).toEqual(['--object']);
    expect(complete('--config', 'x.yaml', 'mv', 'search', '--m')).toEqual(['--mail']);
    expect(d.cli(['completion', 'fish']).code).toBe(64);
    expect(d.cli(['completion', 'zsh']).stdout).toMatch(/^#compdef dirbridge\n/);
  });

  it('logs as text lines when asked (a terminal), without colour under NO_COLOR; JSON otherwise', () => {
    const run = (env: NodeJS.ProcessEnv): { status: number | null; stderr: string } =>
      spawnSync(process.execPath, [CLI, '--config', d.configFile, 'run', 'delta-cycle', '--log-level', 'info'], {
        env: { ...d.env, ...env },
        encoding: 'utf8',
      });
    const text = run({ DIRBRIDGE_LOG_FORMAT: 'text', NO_COLOR: '1' }).stderr;
    expect(text).toMatch(/^\d\d:\d\d:\d\d INFO {2}run \d+ \(delta-cycle\) started\n/);
    expect(text).not.toContain('\u001b[');
    expect(text).not.toContain('{"level"');
    // Not a terminal and not asked: JSON lines, as files and journals want them.
    const lines = run({}).stderr;
    expect(JSON.parse(lines.split('\n')[0]!)).toMatchObject({ event: 'run-started', msg: expect.stringMatching(/delta-cycle/) });
    const wrong = run({ DIRBRIDGE_LOG_FORMAT: 'yaml' });
    expect(wrong.status).toBe(64);
    expect(wrong.stderr).toContain('DIRBRIDGE_LOG_FORMAT is json or text, not "yaml"');
  });
});
