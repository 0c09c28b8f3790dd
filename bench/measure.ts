/**
 * How the benchmark measures: a dirbridge process with its peak resident set, and the raw limits of
 * the same machine (ldapsearch, an ldapts paged search, parallel ldapadd, better-sqlite3 inserts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'ldapts';
import type { Slapd } from '../test/integration/harness/slapd.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface StepReport {
  agent: string;
  type: string;
  stats: Record<string, number>;
  seconds: number;
}

export interface Timed {
  seconds: number;
  peakRssMb: number;
  /** CPU time (user + system) the dirbridge process used, whole process. */
  cpuSeconds: number;
  steps: StepReport[];
}

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

/** CPU seconds (user + system) a process has used so far, from /proc; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14 and 15 of stat)
  } catch {
    return undefined;
  }
}

/** CPU seconds the slapd servers have used so far (their pid files are in their folders). */
export function slapdCpuSeconds(servers: Slapd[]): number {
  return servers.reduce((sum, s) => sum + (cpuSecondsOf(Number(readFileSync(join(s.dir, 'slapd.pid'), 'utf8').trim())) ?? 0), 0);
}

/** BENCH_CPU_PROFILE=DIR: each dirbridge process writes a V8 CPU profile there (open it in Chrome's DevTools). */
function profiling(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** The Node options the dirbridge command starts with (its first line, `#!/usr/bin/env -S node OPTIONS`). */
function commandNodeOptions(): string[] {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
  if (!m) throw new Error(`${CLI} does not start with "#!/usr/bin/env -S node [options]": the benchmark would not run dirbridge as installed`);
  return m[1]!.trim().split(' ').filter(Boolean);
}

/** Runs `dirbridge run PROFILE --json`, sampling its peak resident set (VmHWM) until it exits; fails unless the run succeeded. */
export async function timeRun(configFile: string, profile: string, extra: string[] = []): Promise<Timed> {
  const started = performance.now();
  // Warnings and errors only on stderr: the figures come from the JSON report on stdout.
  // Started as the dirbridge command starts itself: with the Node options of its first line.
  const child = spawn(process.execPath, [...commandNodeOptions(), ...profiling(), CLI, '--config', configFile, 'run', profile, '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DIRBRIDGE_LOG_LEVEL: process.env.DIRBRIDGE_LOG_LEVEL ?? 'warn' },
  });
  let stdout = '';
  let peakKb = 0;
  let cpuSeconds = 0;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const sample = (): void => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
      cpuSeconds = cpuSecondsOf(child.pid!) ?? cpuSeconds;
    } catch {
      // exited between samples
    }
  };
  const timer = setInterval(sample, 25);
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const report = stdout.trim().startsWith('{') ? (JSON.parse(stdout) as { status: string; steps: StepReport[] }) : undefined;
  if (code !== 0 || report?.status !== 'success') throw new Error(`dirbridge run ${profile} ended with ${report?.status ?? `exit ${code}`}`);
  return { seconds, peakRssMb: Math.round(peakKb / 1024), cpuSeconds, steps: report.steps };
}

export async function timeProcess(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  const code = await new Promise<number>((done) => spawn(cmd, args, { stdio: 'ignore' }).on('close', (c) => done(c ?? -1)));
  if (code !== 0) throw new Error(`${cmd} failed with ${code}`);
  return (performance.now() - started) / 1000;
}

/** `ldapsearch` of everything under base, paged as dirbridge pages: entries per second. */
export async function ldapsearchRate(s: Slapd, base: string, expected: number): Promise<number> {
  const seconds = await timeProcess('ldapsearch', [
    '-x',
    '-H',
    s.url,
    '-D',
    s.rootDn,
    '-w',
    s.password,
    '-b',
    base,
    '-LLL',
    '-E',
    'pr=1000/noprompt',
    '(objectClass=*)',
  ]);
  return expected / seconds;
}

/** An ldapts paged search of everything under base, entries counted as they stream: entries per second, and the CPU it cost. */
export async function ldaptsPagedRead(
  s: Slapd,
  base: string,
  pageSize: number,
): Promise<{ perSec: number; clientCpuSeconds: number; slapdCpuSeconds: number; entries: number }> {
  const c = new Client({ url: s.url });
  await c.bind(s.rootDn, s.password);
  const slapdBefore = slapdCpuSeconds([s]);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let entries = 0;
  for await (const page of c.searchPaginated(base, { scope: 'sub', filter: '(objectClass=*)', paged: { pageSize }, timeLimit: 0 }))
    entries += page.searchEntries.length;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const slapd = slapdCpuSeconds([s]) - slapdBefore;
  await c.unbind();
  return { perSec: entries / seconds, clientCpuSeconds: (cpu.user + cpu.system) / 1e6, slapdCpuSeconds: slapd, entries };
}

/** `ldapadd` of the given LDIF files, one process per file, all at once: entries per second. */
export async function ldapaddRate(s: Slapd, files: string[], entries: number): Promise<number> {
  const started = performance.now();
  await Promise.all(files.map((f) => timeProcess('ldapadd', ['-x', '-H', s.url, '-D', s.rootDn, '-w', s.password, '-f', f])));
  return entries / ((performance.now() - started) / 1000);
}

/** better-sqlite3 inserts of rows shaped like a connector-space image, in one transaction: rows per second. */
export function sqliteInsertRate(n: number): number {
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
