/**
 * Hostile requests to the web view, over real HTTP: bytes an attacker chooses, before any token is
 * checked. Each is answered, none stops the server, none sends the browser to another host.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickstartCopy } from '../integration/harness/quickstart.js';
import { startServe, type Served } from '../integration/harness/serve.js';
import { rawHttp } from './harness.js';

const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');
const TOKEN = randomBytes(24).toString('hex');
let served: Served;

const raw = (request: string): Promise<string> => rawHttp(served.port, request);

const stillServing = async (): Promise<number> => (await fetch(`${served.base}/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status;

beforeAll(async () => {
  const { config } = quickstartCopy();
  const env = { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' };
  const r = spawnSync(process.execPath, [CLI, '--config', config, 'run', 'initial', '--json'], { env, encoding: 'utf8' });
  expect(r.status).toBe(2); // the quickstart's deliberate bad entries
  served = await startServe(config, env, TOKEN);
});

afterAll(() => served?.stop());

describe('hostile: web', () => {
  it('a cookie that is not valid percent-encoding is refused as no token, and the server goes on', async () => {
    const status = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dirbridge_token=%E0%A4%A\r\nConnection: close\r\n\r\n`);
    expect(status).toBe('HTTP/1.1 401 Unauthorized');
    expect(await stillServing()).toBe(200);
  });

  it('a request target that is not a URL is a bad request, and the server goes on', async () => {
    const status = await raw(`GET http://[bad/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(await stillServing()).toBe(200);
  });

  it('many malformed requests in a row leave it serving', async () => {
    const targets = [
      'http://[',
      '//',
      '/%',
      '/%%%',
      '/?token=%',
      `/?token=${'%'.repeat(3000)}`,
      '/object/99999999999999999999999',
      '/runs/-1',
      '/\u0000',
      '/?mail=%00*',
    ];
    for (const t of targets) {
      const status = await raw(`GET ${t} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dirbridge_token=${encodeURIComponent(TOKEN)}\r\nConnection: close\r\n\r\n`);
      expect(status, t).toMatch(/^HTTP\/1\.1 [2345]\d\d |^closed$/);
    }
    expect(await stillServing()).toBe(200);
  });

  it('after the token is taken from the address, the browser is sent to a path on this server only', async () => {
    for (const path of ['/.//evil.example/x', '//evil.example/x', '/././/evil.example', '/%2F%2Fevil.example']) {
      const r = await fetch(`${served.base}${path}?token=${TOKEN}`, { redirect: 'manual' });
      expect(r.status, path).toBe(303);
      const location = r.headers.get('location')!;
      expect(location, path).toMatch(/^\/(?!\/)/);
      expect(new URL(location, served.base).host, path).toBe(new URL(served.base).host);
    }
  });
});
