/**
 * What the hostile cases share: the built CLI run as an administrator would run it, on a private copy
 * of the quickstart's LDIF deployment, and a copy of one that has already had its first setup (made
 * once per test file, copied per case: a first setup costs a second, a copy a few milliseconds).
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { quickstartCopy } from '../integration/harness/quickstart.js';

export const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');

export interface Problem {
  severity: string;
  object: string;
  attribute?: string;
  code: string;
  message: string;
}

export interface Report {
  status: string;
  steps: { agent: string; type: string; message?: string; stats: Record<string, number>; problems: Problem[] }[];
}

export interface Deployment {
  dir: string;
  config: string;
  /** Runs the CLI with --json where `json` is set; the report when stdout holds one. */
  cli(
    args: string[],
    options?: { json?: boolean; env?: Record<string, string>; input?: string; timeout?: number },
  ): { code: number; stdout: string; stderr: string; report?: Report };
  file(name: string): string;
  read(name: string): string;
}

export function deployment(config: string, dir: string): Deployment {
  return {
    dir,
    config,
    cli(args, options = {}) {
      const json = options.json ?? true;
      const r = spawnSync(process.execPath, [CLI, '--config', config, ...args, ...(json ? ['--json'] : [])], {
        env: { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent', ...options.env },
        encoding: 'utf8',
        timeout: options.timeout ?? 60_000,
        input: options.input,
      });
      let report: Report | undefined;
      if (json && r.stdout.trim().startsWith('{')) report = JSON.parse(r.stdout) as Report;
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ...(report ? { report } : {}) };
    },
    file: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name), 'utf8'),
  };
}

/** A fresh copy of the quickstart, before any run. */
export function freshQuickstart(extra: Record<string, unknown> = {}): Deployment {
  const { config, dir } = quickstartCopy(extra);
  return deployment(config, dir);
}

let template: string | undefined;

/** A copy of the quickstart after its first setup (`run initial`, exit 2: its deliberate bad entries). */
export function setUpQuickstart(): Deployment {
  if (!template) {
    const d = freshQuickstart();
    const r = d.cli(['run', 'initial']);
    if (r.code !== 2) throw new Error(`the quickstart's first setup ended with exit ${r.code}: ${r.stderr}`);
    template = d.dir;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-hostile-'));
  cpSync(template, dir, { recursive: true });
  return deployment(join(dir, 'dirbridge.yaml'), dir);
}

export const problemsOf = (r: Report | undefined): Problem[] => r?.steps.flatMap((s) => s.problems) ?? [];

/** Adds, updates, renames and deletes sent by the export steps of a run. */
export function exported(r: Report | undefined): { adds: number; updates: number; renames: number; deletes: number } {
  const sum = { adds: 0, updates: 0, renames: 0, deletes: 0 };
  for (const s of r?.steps ?? []) {
    if (s.type !== 'export') continue;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += s.stats[k] ?? 0;
  }
  return sum;
}

/** The records of an LDIF file, by the value of their first line. */
export function records(text: string): string[] {
  return text.split(/\n\n+/).filter((r) => r.trim() && !r.trim().startsWith('version:') && !/^#/.test(r.trim()));
}

/** A Domino person record as the quickstart's people file writes them. */
export function person(cn: string, unid: string, mail: string, extra = ''): string {
  const [given, sn] = cn.split(' ');
  return `dn: cn=${cn},ou=Sales,o=Acme\nobjectClass: dominoPerson\ncn: ${cn}\ngivenName: ${given}\nsn: ${sn}\nuid: ${mail.split('@')[0]}\ndominoUNID: ${unid}\ninternetaddress: ${mail}\nmailsystem: 1\n${extra}`;
}

/** A message for a person, not a stack trace. */
export const expectNoStackTrace = (stderr: string): void => expect(stderr).not.toMatch(/\n\s+at /);

/** Raw bytes to a server on loopback; the status line, or "closed" when it hung up without one. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
    socket.on('error', fail);
    socket.on('close', () => done(got.split('\r\n')[0] || 'closed'));
  });
}
