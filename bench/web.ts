/**
 * npm run bench:web [-- N]: the auditors' web view over a store of N people and N mailbox users
 * (default 100,000 each), built by the quickstart's LDIF agents from generated files, then 1% of the
 * people leave. Times every page (median of three, over HTTP), two pages in Chromium, a whole-report
 * CSV download with the latency other requests see while it streams, and how long SIGTERM takes to
 * end the server during a download. Checks the targets (a page under 1 s, the report under 5 s,
 * other requests under 1 s during a download, SIGTERM under 2 s) and exits 1 when one is missed.
 * Figures are also given as ratios to a raw SQLite read of the same rows, measured in the same run,
 * since these machines are shared and noisy. Writes bench/results/web-N-TIME.json.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { parse, stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 100_000);
const TOKEN = randomBytes(24).toString('hex');

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

async function writeLines(file: string, count: number, record: (i: number) => string, header = 'version: 1\n\n'): Promise<void> {
  const out = createWriteStream(file);
  out.write(header);
  for (let i = 0; i < count; i++) if (!out.write(record(i))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(r));
}

const person = (i: number): string => `dn: cn=Person ${i},ou=People,o=Acme
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: dominoPerson
cn: Person ${i}
givenName: Person
sn: ${i}
uid: person.${i}
dominoUNID: ${hex(i, 32)}
internetaddress: person.${i}@notes.acme.example
mailsystem: 1
title: Title ${i % 50}

`;

const mailbox = (i: number): string => `dn: CN=Mailbox ${i},OU=Mailboxes,DC=acme,DC=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Mailbox ${i}
displayName: Mailbox ${i}
givenName: Mailbox
sn: ${i}
mail: mailbox.${i}@acme.example
mailNickname: mailbox.${i}
proxyAddresses: SMTP:mailbox.${i}@acme.example
homeMDB: CN=Mailbox Database 01,CN=Databases,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=Acme,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=acme,DC=example
msExchRecipientTypeDetails: 1
objectGUID:: ${Buffer.from(hex(i, 32), 'hex').toString('base64')}

`;

function cli(config: string, args: string[]): { code: number; seconds: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, '--config', config, ...args, '--log-level', 'warn'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if ((r.status ?? 9) > 2) throw new Error(`dirbridge ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return { code: r.status ?? -1, seconds: (performance.now() - started) / 1000 };
}

async function setUp(dir: string): Promise<string> {
  console.error(`[web ${N}] writing ${N} people and ${N} mailbox users ...`);
  await writeLines(join(dir, 'domino-names.ldif'), N, person);
  await writeLines(join(dir, 'ad-mailboxes.ldif'), N, mailbox);
  mkdirSync(join(dir, 'work'));
  writeFileSync(join(dir, 'work/ad-contacts.ldif'), 'version: 1\n');
  const config = parse(readFileSync(join(ROOT, 'examples/quickstart/dirbridge.yaml'), 'utf8')) as Record<string, any>;
  config.runProfiles = join(ROOT, 'run-profiles');
  config.serve = { token: { env: 'DIRBRIDGE_SERVE_TOKEN' } };
  config.safety = { ...(config.safety ?? {}), deletionThreshold: { count: N, percent: 100 } };
  const file = join(dir, 'dirbridge.yaml');
  writeFileSync(file, stringify(config));
  console.error(`[web ${N}] initial run ...`);
  const initial = cli(file, ['run', 'initial']);
  console.error(`[web ${N}] initial run: ${initial.seconds.toFixed(0)} s; 1% of the people leave, full cycle ...`);
  await writeLines(join(dir, 'domino-names.ldif'), N, (i) => (i % 100 === 7 ? '' : person(i)));
  cli(file, ['run', 'full-cycle']);
  return file;
}

/** Reads every connector-space row with better-sqlite3 itself: the raw rate the pages compare with. */
function rawSqlite(store: string): { rows: number; seconds: number; perSec: number } {
  const db = new Database(store, { readonly: true });
  try {
    const started = performance.now();
    let rows = 0;
    for (const r of db.prepare('SELECT id, agent, dn, attributes FROM cs_object').iterate()) if (r) rows++;
    const seconds = (performance.now() - started) / 1000;
    return { rows, seconds, perSec: rows / seconds };
  } finally {
    db.close();
  }
}

async function serve(config: string): Promise<{ base: string; stop: () => Promise<number> }> {
  const child = spawn(process.execPath, [CLI, '--config', config, 'serve', '--port', '0'], {
    env: { ...process.env, DIRBRIDGE_SERVE_TOKEN: TOKEN, DIRBRIDGE_LOG_FORMAT: 'json' },
  });
  const base = await new Promise<string>((done, fail) => {
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      const line = err.split('\n').find((l) => l.includes('"serving"'));
      if (line) done((JSON.parse(line) as { url: string }).url.replace(/\/$/, ''));
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
  return {
    base,
    stop: () =>
      new Promise((done) => {
        const started = performance.now();
        child.once('exit', () => done((performance.now() - started) / 1000));
        child.kill('SIGTERM');
      }),
  };
}

const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

async function timed(url: string): Promise<{ seconds: number; bytes: number; status: number }> {
  const started = performance.now();
  const r = await fetch(url, auth);
  const body = await r.arrayBuffer();
  return { seconds: (performance.now() - started) / 1000, bytes: body.byteLength, status: r.status };
}

async function median(url: string): Promise<{ seconds: number; bytes: number }> {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const t = await timed(url);
    if (t.status !== 200) throw new Error(`${url}: ${t.status}`);
    runs.push(t);
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[1]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `dirbridge-bench-web-${N}-`));
  const config = await setUp(dir);
  const raw = rawSqlite(join(dir, 'work/metaverse.db'));
  const db = new Database(join(dir, 'work/metaverse.db'), { readonly: true });
  const deleted = db.prepare('SELECT mv_id, mail FROM mv_tombstone LIMIT 1').get() as { mv_id: number; mail: string };
  const changes = db.prepare('SELECT COUNT(*) FROM change_log').pluck().get() as number;
  const live = db
    .prepare('SELECT id FROM mv_object ORDER BY id LIMIT 1 OFFSET ?')
    .pluck()
    .get(Math.floor(N / 2)) as number;
  db.close();
  console.error(`[web ${N}] raw SQLite: ${raw.rows} rows in ${raw.seconds.toFixed(2)} s; ${changes} change-log entries; serving ...`);
  const server = await serve(config);
  const pages: Record<string, string> = {
    search: `/?mail=person.${Math.floor(N / 3)}*`,
    'search, deleted person': `/?mail=${encodeURIComponent(deleted.mail)}`,
    'search, no hit': '/?name=nobody*',
    object: `/object/${live}`,
    'object, deleted': `/object/${deleted.mv_id}`,
    runs: '/runs',
    'run 1 (the initial run)': '/runs/1',
    'run 1, far page': `/runs/1?offset=${Math.floor(changes / 2)}`,
    'changes form': '/changes',
    'changes of a person': `/changes?object=${encodeURIComponent(deleted.mail)}`,
    'changes by agent and operation': '/changes?agent=ad-contacts&operation=export-delete',
    agents: '/agents',
    report: '/report',
    'report, far page': `/report?section=contacts&offset=${N}`,
  };
  const results: Record<string, { seconds: number; bytes: number; target: number; ratioToRawRead: number }> = {};
  for (const [name, path] of Object.entries(pages)) {
    const t = await median(server.base + path);
    const target = name.startsWith('report') && !name.includes('far') ? 5 : 1;
    results[name] = { ...t, target, ratioToRawRead: t.seconds / raw.seconds };
    console.error(`[web ${N}] ${name}: ${(t.seconds * 1000).toFixed(0)} ms, ${(t.bytes / 1024).toFixed(0)} KB`);
  }

  // In Chromium: what an auditor waits for.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const chrome: Record<string, number> = {};
  try {
    const page = await browser.newPage();
    await page.goto(`${server.base}/runs?token=${TOKEN}`);
    for (const path of ['/report', '/runs/1', '/agents']) {
      const started = performance.now();
      await page.goto(server.base + path, { waitUntil: 'load' });
      chrome[path] = (performance.now() - started) / 1000;
      console.error(`[web ${N}] Chromium ${path}: ${(chrome[path] * 1000).toFixed(0)} ms`);
    }
  } finally {
    await browser.close();
  }

  // A whole-section download, and what another request waits meanwhile.
  const download = timed(`${server.base}/report?section=contacts&format=csv`);
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 200));
    waits.push((await timed(`${server.base}/agents`)).seconds);
  }
  const whole = await download;
  console.error(
    `[web ${N}] CSV of every contact: ${whole.seconds.toFixed(1)} s, ${(whole.bytes / 1e6).toFixed(0)} MB; /agents meanwhile at most ${(Math.max(...waits) * 1000).toFixed(0)} ms`,
  );

  // SIGTERM during a download.
  const inFlight = fetch(`${server.base}/changes?operation=import-add&format=csv`, auth)
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  const sigterm = await server.stop();
  await inFlight;
  console.error(`[web ${N}] SIGTERM during a download: ended in ${(sigterm * 1000).toFixed(0)} ms`);

  const missed = [
    ...Object.entries(results)
      .filter(([, r]) => r.seconds > r.target)
      .map(([name, r]) => `${name}: ${r.seconds.toFixed(2)} s, target ${r.target} s`),
    ...Object.entries(chrome)
      .filter(([path, s]) => s > (path === '/report' ? 5 : 1))
      .map(([path, s]) => `Chromium ${path}: ${s.toFixed(2)} s`),
    ...(Math.max(...waits) > 1 ? [`a page during a download: ${Math.max(...waits).toFixed(2)} s, target 1 s`] : []),
    ...(sigterm > 2 ? [`SIGTERM: ${sigterm.toFixed(2)} s, target 2 s`] : []),
  ];
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `web-${N}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        n: N,
        raw,
        changes,
        pages: results,
        chromium: chrome,
        download: { ...whole, perSec: N / whole.seconds, waits },
        sigterm,
        missed,
      },
      null,
      2,
    ),
  );
  console.log(`\nweb view at ${N} per side (${changes} change-log entries); raw SQLite read of ${raw.rows} rows: ${raw.seconds.toFixed(2)} s`);
  for (const [name, r] of Object.entries(results))
    console.log(`  ${name.padEnd(34)} ${(r.seconds * 1000).toFixed(0).padStart(6)} ms  (${r.ratioToRawRead.toFixed(3)} x raw read; target ${r.target} s)`);
  for (const [path, s] of Object.entries(chrome)) console.log(`  Chromium ${path.padEnd(25)} ${(s * 1000).toFixed(0).padStart(6)} ms`);
  console.log(
    `  contacts CSV download ${whole.seconds.toFixed(1)} s (${(raw.perSec / (N / whole.seconds)).toFixed(1)} x slower than the raw read per row); a page meanwhile at most ${(Math.max(...waits) * 1000).toFixed(0)} ms`,
  );
  console.log(`  SIGTERM during a download: ${(sigterm * 1000).toFixed(0)} ms`);
  console.log(missed.length ? `\nMISSED:\n  ${missed.join('\n  ')}` : '\nevery target met');
  console.log(`results: ${file}`);
  if (missed.length) process.exitCode = 1;
}

await main();
