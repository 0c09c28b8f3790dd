/**
 * The web view under attack, over real HTTP: without the token nothing but a 401 is shown; with it,
 * only GET and HEAD are answered, every answer carries the headers that keep a browser from running
 * or framing anything, nothing outside the store is served, and names chosen by an attacker in the
 * source directory reach the page as text.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type Served } from '../integration/harness/serve.js';
import { freshQuickstart, person, rawHttp } from './harness.js';

const TOKEN = randomBytes(24).toString('hex');
const auth = { Authorization: `Bearer ${TOKEN}` };
const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(2)>';
let served: Served;

const raw = (request: string): Promise<string> => rawHttp(served.port, request);

beforeAll(async () => {
  const d = freshQuickstart();
  // Two people whose names are markup: Domino accepts any text in a name.
  const evil = [
    person('Eve Script', 'E'.repeat(32), 'eve.script@notes.acme.example', `title: ${SCRIPT}\n`),
    person('Ivy Image', 'F'.repeat(31) + '0', 'ivy.image@notes.acme.example', `title: ${IMG}\n`),
  ];
  writeFileSync(d.file('domino-names.ldif'), `${d.read('domino-names.ldif').trimEnd()}\n\n${evil.join('\n')}`);
  expect(d.cli(['run', 'initial']).code).toBe(2);
  served = await startServe(d.config, { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' }, TOKEN);
});
afterAll(() => served?.stop());

const PAGES = ['/', '/?mail=alice*', '/runs', '/runs/1', '/object/1', '/report'];

describe('hostile: web', () => {
  for (const page of PAGES) {
    it(`${page} without the token: 401, and no data of the store in the answer`, async () => {
      const r = await fetch(`${served.base}${page}`, { redirect: 'manual' });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(await r.text()).not.toMatch(/alice|Archer|acme\.example/i);
    });
  }

  const wrong: [string, Record<string, string>][] = [
    ['a wrong bearer token', { Authorization: `Bearer ${randomBytes(24).toString('hex')}` }],
    ['the first half of the token', { Authorization: `Bearer ${TOKEN.slice(0, 24)}` }],
    ['the token with more after it', { Authorization: `Bearer ${TOKEN}x` }],
    ['the token as Basic credentials', { Authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['a wrong cookie', { Cookie: `dirbridge_token=${randomBytes(24).toString('hex')}` }],
    ['the token in a cookie of another name', { Cookie: `token=${TOKEN}` }],
  ];
  for (const [what, headers] of wrong) {
    it(`${what}: 401`, async () => {
      expect((await fetch(`${served.base}/runs`, { headers })).status).toBe(401);
    });
  }

  it('a wrong token in the address: 401 and no cookie set', async () => {
    const r = await fetch(`${served.base}/?token=${randomBytes(24).toString('hex')}`, { redirect: 'manual' });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it('the right token in the address: traded for an HttpOnly, SameSite=Strict cookie, and taken out of the address', async () => {
    const r = await fetch(`${served.base}/runs?token=${TOKEN}`, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('set-cookie')).toMatch(/^dirbridge_token=[0-9a-f]+; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(r.headers.get('location')).toBe('/runs');
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    it(`${method} changes nothing: 405, GET and HEAD allowed`, async () => {
      const r = await fetch(`${served.base}/runs`, { method, headers: auth, ...(method === 'OPTIONS' ? {} : { body: 'x=1' }) });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    });
  }

  it('TRACE is not echoed back (405)', async () => {
    expect(await raw(`TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`)).toBe(
      'HTTP/1.1 405 Method Not Allowed',
    );
  });

  for (const page of ['/', '/runs', '/nowhere', '/object/0']) {
    it(`${page}: the answer forbids scripts, framing, sniffing, caching and referrers`, async () => {
      const r = await fetch(`${served.base}${page}`, { headers: auth });
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(r.headers.get('content-security-policy')).not.toMatch(/script-src/);
      expect({ nosniff: r.headers.get('x-content-type-options'), cache: r.headers.get('cache-control'), referrer: r.headers.get('referrer-policy') }).toEqual({
        nosniff: 'nosniff',
        cache: 'no-store',
        referrer: 'no-referrer',
      });
    });
  }

  for (const path of [
    '/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/object/1/..%2f..%2f..%2fetc%2fpasswd',
    '/static/..%2f..%2f..%2fetc%2fpasswd',
    '/..\\..\\..\\etc\\passwd',
  ]) {
    it(`${path}: nothing outside the store is served`, async () => {
      const status = await raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
      expect(status).toMatch(/^HTTP\/1\.1 (400|404) /);
      const r = await fetch(`${served.base}${path}`, { headers: auth });
      expect(await r.text()).not.toContain('root:');
    });
  }

  for (const path of [
    '/object/-1',
    '/object/1e3',
    '/object/99999999999999999999',
    '/runs/0',
    '/runs/abc',
    '/?where=((((',
    '/?type=%3Cscript%3E',
    '/?mail=%00',
    `/?name=${'x'.repeat(60_000)}`,
  ]) {
    it(`${path.slice(0, 40)}: answered without a server error`, async () => {
      const r = await fetch(`${served.base}${path}`, { headers: auth });
      expect(r.status, path.slice(0, 40)).toBeLessThan(500);
      expect(await r.text()).not.toContain('<script>');
    });
  }

  it('names that are markup reach the search page and the object page as text, never as markup', async () => {
    for (const [mail, payload] of [
      ['eve.script@notes.acme.example', SCRIPT],
      ['ivy.image@notes.acme.example', IMG],
    ] as const) {
      const search = await (await fetch(`${served.base}/?mail=${encodeURIComponent(mail)}`, { headers: auth })).text();
      const id = /href="\/object\/(\d+)"/.exec(search)?.[1];
      expect(id, mail).toBeDefined();
      const page = await (await fetch(`${served.base}/object/${id}`, { headers: auth })).text();
      expect(page).toContain(payload.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
      expect(page).not.toContain(payload);
      expect(page).not.toMatch(/<script|<img/i);
    }
  });

  it('200 requests at once, with and without the token, are all answered and the server stays up', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => fetch(`${served.base}/runs`, i % 2 ? { headers: auth } : {}).then((r) => r.status)),
    );
    expect(new Set(answers)).toEqual(new Set([200, 401]));
    expect((await fetch(`${served.base}/runs`, { headers: auth })).status).toBe(200);
  });
});
