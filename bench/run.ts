/**
 * npm run bench [-- SIZE...]: for each size N, two private slapd servers (a Domino-shaped and an
 * AD-shaped directory) are seeded with N people, N mailbox users and the 2N contacts dirbridge would
 * have written; then, in the same run, the raw rates (ldapsearch, an ldapts paged search, SQLite
 * inserts) and dirbridge's own figures: first setup (the initial profile), an empty delta cycle and a
 * delta cycle with 10 changes, with the peak RSS of each. Prints a table and writes JSON.
 * Figures are given next to their raw counterparts: these machines are shared and noisy.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'ldapts';
import { parse, stringify } from 'yaml';
import { startSlapd, type Slapd } from '../test/integration/harness/slapd.js';
import { AD_CONTACTS, AD_MAILBOXES, AD_SUFFIX, DOMINO_CONTACTS, DOMINO_PEOPLE, DOMINO_SUFFIX, mailbox, mailboxLdif, person, personLdif, writeAdSeed, writeDominoSeed } from './data.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
if (!sizes.length) sizes.push(2_000, 20_000);

interface Timed {
  seconds: number;
  peakRssMb: number;
  code: number;
  report: { status: string; steps: { agent: string; type: string; stats: Record<string, number>; seconds: number }[] } | undefined;
}

/** BENCH_CPU_PROFILE=DIR: each dirbridge process writes a V8 CPU profile there (open it in Chrome's DevTools). */
function profiling(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** Runs the CLI and samples its peak resident set (VmHWM) until it exits. */
async function timeCli(configFile: string, args: string[]): Promise<Timed> {
  const started = performance.now();
  // Warnings and errors only on stderr: the figures come from the JSON report on stdout.
  const child = spawn(process.execPath, [...profiling(), CLI, '--config', configFile, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DIRBRIDGE_LOG_LEVEL: process.env.DIRBRIDGE_LOG_LEVEL ?? 'warn' } });
  let stdout = '';
  let peakKb = 0;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const sample = (): void => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited between samples
    }
  };
  const timer = setInterval(sample, 25);
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, peakRssMb: Math.round(peakKb / 1024), code, report: stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined };
}

async function timeProcess(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  const code = await new Promise<number>((done) => spawn(cmd, args, { stdio: 'ignore' }).on('close', (c) => done(c ?? -1)));
  if (code !== 0) throw new Error(`${cmd} failed with ${code}`);
  return (performance.now() - started) / 1000;
}

async function ldaptsPagedRead(s: Slapd, base: string): Promise<{ seconds: number; entries: number }> {
  const c = new Client({ url: s.url });
  await c.bind(s.rootDn, s.password);
  const started = performance.now();
  let entries = 0;
  for await (const page of c.searchPaginated(base, { scope: 'sub', filter: '(objectClass=*)', paged: { pageSize: 500 }, timeLimit: 0 })) entries += page.searchEntries.length;
  const seconds = (performance.now() - started) / 1000;
  await c.unbind();
  return { seconds, entries };
}

function sqliteInserts(n: number): number {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO t (a, b) VALUES (?, ?)');
  const started = performance.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(`cn=Given${i} Surname${i},ou=People,o=Acme`, JSON.stringify({ sn: [`Surname${i}`], mail: [`p${i}@notes.acme.test`] }));
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return n / seconds;
}

function writeConfig(dir: string, domino: Slapd, ad: Slapd): string {
  const quickstart = parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;
  const rules = quickstart.rules;
  rules['ad-contacts'].provision.dn = `cn={cn},${AD_CONTACTS}`;
  rules['domino-contacts'].provision.dn = `cn={cn},${DOMINO_CONTACTS}`;
  delete rules['domino-contacts'].exportFlows.mailsystem; // the domino-ldap agent writes MailSystem itself
  const dominoAttrs = ['cn', 'givenname', 'sn', 'uid', 'internetaddress', 'mailaddress', 'mailsystem', 'title', 'telephonenumber', 'description'];
  const adAttrs = ['cn', 'displayName', 'givenName', 'sn', 'mail', 'mailNickname', 'proxyAddresses', 'title', 'telephoneNumber'];
  const common = (s: Slapd, pw: string) => ({ url: s.url, bindDn: s.rootDn, password: { env: pw }, delta: { strategy: 'accesslog' }, pageSize: 1000 });
  const config = {
    metaverse: { ...quickstart.metaverse, file: join(dir, 'metaverse.db') },
    runProfiles: join(ROOT, 'run-profiles'),
    agents: {
      'domino-people': { type: 'domino-ldap', ...common(domino, 'DOMINO_PW'), baseDn: DOMINO_PEOPLE, filter: '(&(objectClass=dominoPerson)(!(mailsystem=5)))', objectClasses: ['dominoPerson'], anchor: 'dominoUNID', attributes: dominoAttrs },
      'domino-contacts': { type: 'domino-ldap', ...common(domino, 'DOMINO_PW'), baseDn: DOMINO_CONTACTS, filter: '(objectClass=dominoPerson)', objectClasses: ['dominoPerson'], anchor: 'entryUUID', attributes: dominoAttrs },
      'ad-mailboxes': { type: 'ad-ldap', ...common(ad, 'AD_PW'), baseDn: AD_MAILBOXES, filter: '(objectClass=user)', objectClasses: ['user'], anchor: 'entryUUID', binaryAttributes: [], attributes: [...adAttrs, 'homeMDB', 'msExchRecipientTypeDetails'] },
      'ad-contacts': { type: 'ad-ldap', ...common(ad, 'AD_PW'), baseDn: AD_CONTACTS, filter: '(objectClass=contact)', objectClasses: ['contact'], anchor: 'entryUUID', binaryAttributes: [], attributes: [...adAttrs, 'targetAddress', 'adminDescription'] },
    },
    rules,
  };
  const file = join(dir, 'dirbridge.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** Ten changes, five per side: two adds, two surname changes and one deletion. */
function makeTenChanges(domino: Slapd, ad: Slapd, n: number, round: number): void {
  const base = n + round * 10;
  domino.add(personLdif(base) + personLdif(base + 1));
  ad.add(mailboxLdif(base) + mailboxLdif(base + 1));
  const victims = [round * 3 + 1, round * 3 + 2, round * 3 + 3];
  domino.modify(victims.slice(0, 2).map((i) => `dn: cn=${person(i).cn},${DOMINO_PEOPLE}\nchangetype: modify\nreplace: sn\nsn: Changed${round}\n`).join('\n'));
  ad.modify(victims.slice(0, 2).map((i) => `dn: cn=${mailbox(i).cn},${AD_MAILBOXES}\nchangetype: modify\nreplace: sn\nsn: Changed${round}\n`).join('\n'));
  domino.modify(`dn: cn=${person(victims[2]!).cn},${DOMINO_PEOPLE}\nchangetype: delete\n`);
  ad.modify(`dn: cn=${mailbox(victims[2]!).cn},${AD_MAILBOXES}\nchangetype: delete\n`);
}

interface SizeResult {
  n: number;
  raw: { ldapsearchPerSec: number; ldaptsPagedPerSec: number; sqliteInsertsPerSec: number };
  initial: { seconds: number; objects: number; objectsPerSec: number; peakRssMb: number; exports: number; phases: Phases };
  emptyDelta: { seconds: number; peakRssMb: number };
  tenChangeDelta: { seconds: number; peakRssMb: number; exports: number };
}

/** Where the first setup's time goes: its step kinds, each as objects per second. */
interface Phases {
  /** The first full import of each of the four agents (4N objects). */
  fullImportPerSec: number;
  /** The full syncs of the four agents (4N connector-space objects). */
  fullSyncPerSec: number;
  /** The confirming full imports of the two contact agents (2N objects). */
  confirmingImportPerSec: number;
}

function phasesOf(t: Timed, n: number): Phases {
  const steps = t.report?.steps ?? [];
  const seconds = (pick: typeof steps): number => pick.reduce((sum, s) => sum + s.seconds, 0);
  const imports = steps.filter((s) => s.type === 'full-import');
  const rate = (objects: number, secs: number): number => (secs > 0 ? Math.round(objects / secs) : 0);
  return {
    fullImportPerSec: rate(4 * n, seconds(imports.slice(0, 4))),
    fullSyncPerSec: rate(4 * n, seconds(steps.filter((s) => s.type === 'full-sync'))),
    confirmingImportPerSec: rate(2 * n, seconds(imports.slice(4))),
  };
}

function exportsOf(t: Timed): number {
  return (t.report?.steps ?? []).filter((s) => s.type === 'export').reduce((sum, s) => sum + (s.stats.adds ?? 0) + (s.stats.updates ?? 0) + (s.stats.renames ?? 0) + (s.stats.deletes ?? 0), 0);
}

function expectOk(what: string, t: Timed): void {
  if (t.code !== 0 || t.report?.status !== 'success') throw new Error(`${what} ended with ${t.report?.status ?? `exit ${t.code}`}`);
}

async function benchSize(n: number): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), `dirbridge-bench-${n}-`));
  console.error(`\n[${n}] writing ${4 * n} entries and loading them with slapadd ...`);
  const dominoSeed = join(dir, 'domino.ldif');
  const adSeed = join(dir, 'ad.ldif');
  await writeDominoSeed(dominoSeed, n);
  await writeAdSeed(adSeed, n);
  const maxSize = Math.max(1, Math.ceil(n / 10_000)) * 200 * 1024 * 1024;
  const domino = await startSlapd({ suffix: DOMINO_SUFFIX, seed: dominoSeed, maxSize });
  const ad = await startSlapd({ suffix: AD_SUFFIX, seed: adSeed, maxSize, schemas: [join(ROOT, 'bench/fixtures/ad.schema')] });
  try {
    console.error(`[${n}] raw rates ...`);
    const ldapsearchSec = await timeProcess('ldapsearch', ['-x', '-H', domino.url, '-D', domino.rootDn, '-w', domino.password, '-b', DOMINO_PEOPLE, '-LLL', '-E', 'pr=1000/noprompt', '(objectClass=*)']);
    const paged = await ldaptsPagedRead(domino, DOMINO_PEOPLE);
    const raw = { ldapsearchPerSec: Math.round((n + 1) / ldapsearchSec), ldaptsPagedPerSec: Math.round(paged.entries / paged.seconds), sqliteInsertsPerSec: Math.round(sqliteInserts(Math.min(n, 100_000))) };

    const configFile = writeConfig(dir, domino, ad);
    process.env.DOMINO_PW = domino.password;
    process.env.AD_PW = ad.password;
    console.error(`[${n}] first setup (initial profile) ...`);
    const initial = await timeCli(configFile, ['run', 'initial', '--json']);
    expectOk('the initial profile', initial);
    const objects = 8 * n; // four agents imported twice (the contact agents' confirming imports)
    console.error(`[${n}] delta cycles ...`);
    const empty = await timeCli(configFile, ['run', 'delta-cycle', '--json']);
    expectOk('the empty delta cycle', empty);
    makeTenChanges(domino, ad, n, 0);
    const ten = await timeCli(configFile, ['run', 'delta-cycle', '--json']);
    expectOk('the 10-change delta cycle', ten);
    if (exportsOf(ten) !== 10) throw new Error(`the 10-change delta cycle exported ${exportsOf(ten)} changes, expected 10`);
    return {
      n,
      raw,
      initial: { seconds: round(initial.seconds), objects, objectsPerSec: Math.round(objects / initial.seconds), peakRssMb: initial.peakRssMb, exports: exportsOf(initial), phases: phasesOf(initial, n) },
      emptyDelta: { seconds: round(empty.seconds), peakRssMb: empty.peakRssMb },
      tenChangeDelta: { seconds: round(ten.seconds), peakRssMb: ten.peakRssMb, exports: exportsOf(ten) },
    };
  } finally {
    await domino.stop();
    await ad.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

const results: SizeResult[] = [];
for (const n of sizes) results.push(await benchSize(n));

const rows = [
  ['people per side', ...results.map((r) => String(r.n))],
  ['raw: ldapsearch, entries/s', ...results.map((r) => String(r.raw.ldapsearchPerSec))],
  ['raw: ldapts paged search, entries/s', ...results.map((r) => String(r.raw.ldaptsPagedPerSec))],
  ['raw: SQLite inserts, rows/s', ...results.map((r) => String(r.raw.sqliteInsertsPerSec))],
  ['first setup (initial), s', ...results.map((r) => String(r.initial.seconds))],
  ['first setup, objects imported/s (8N)', ...results.map((r) => String(r.initial.objectsPerSec))],
  ['first setup / raw ldapts rate', ...results.map((r) => (r.initial.objectsPerSec / r.raw.ldaptsPagedPerSec).toFixed(2))],
  ['  its full imports, objects/s (4N)', ...results.map((r) => String(r.initial.phases.fullImportPerSec))],
  ['  its full imports / raw ldapts rate', ...results.map((r) => (r.initial.phases.fullImportPerSec / r.raw.ldaptsPagedPerSec).toFixed(2))],
  ['  its full syncs, objects/s (4N)', ...results.map((r) => String(r.initial.phases.fullSyncPerSec))],
  ['  its confirming imports, objects/s (2N)', ...results.map((r) => String(r.initial.phases.confirmingImportPerSec))],
  ['first setup, peak RSS MB', ...results.map((r) => String(r.initial.peakRssMb))],
  ['first setup, exports (contacts were seeded)', ...results.map((r) => String(r.initial.exports))],
  ['delta cycle, nothing changed, s', ...results.map((r) => String(r.emptyDelta.seconds))],
  ['delta cycle, 10 changes, s', ...results.map((r) => String(r.tenChangeDelta.seconds))],
  ['delta cycle, 10 changes, peak RSS MB', ...results.map((r) => String(r.tenChangeDelta.peakRssMb))],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log('');
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
if (results.length > 1) {
  const first = results[0]!;
  const last = results[results.length - 1]!;
  console.log(`\n10-change delta cycle at ${last.n} vs ${first.n} people per side (${last.n / first.n}x the directory): ${(last.tenChangeDelta.seconds / first.tenChangeDelta.seconds).toFixed(2)}x the time`);
}
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(outFile, JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2));
console.log(`\nJSON: ${outFile}`);
