/** `dirbridge serve` for a test: the config given a token from the environment, started on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const CLI = join(resolve(import.meta.dirname, '../../..'), 'dist/cli/main.js');

export interface Served {
  /** http://127.0.0.1:PORT, without a trailing slash. */
  base: string;
  port: number;
  process: ChildProcess;
  stop(): void;
}

export async function startServe(configFile: string, env: NodeJS.ProcessEnv, token: string): Promise<Served> {
  const config = parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  config.serve = { token: { env: 'DIRBRIDGE_SERVE_TOKEN' } };
  writeFileSync(configFile, stringify(config));
  const server = spawn(process.execPath, [CLI, '--config', configFile, 'serve', '--port', '0'], { env: { ...env, DIRBRIDGE_SERVE_TOKEN: token } });
  const base = await new Promise<string>((resolveUrl, reject) => {
    let err = '';
    server.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const line = err.split('\n').find((l) => l.includes('"serving"'));
      if (line) resolveUrl((JSON.parse(line) as { url: string }).url.replace(/\/$/, ''));
    });
    server.on('exit', (code) => reject(new Error(`dirbridge serve exited with ${code}: ${err}`)));
  });
  return { base, port: Number(new URL(base).port), process: server, stop: () => void server.kill('SIGTERM') };
}
