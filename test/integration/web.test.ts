/**
 * The auditors' web view, end to end in headless Chromium (Debian's chromium driven by playwright-core):
 * search, open an object, read its lineage and history; a request without the token is refused, and
 * nothing can be changed through it.
 */
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, shippedSteps, type Deployment } from './harness/coexistence.js';
import { startServe, type Served } from './harness/serve.js';
import type { Slapd } from './harness/slapd.js';

const TOKEN = randomBytes(24).toString('hex');
let slapd: Slapd;
let d: Deployment;
let server: Served;
let base: string;
let browser: Browser;
let createdBy: number;
let changedBy: number;

beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd({ dominoPeopleOnly: true }));
  d.addDominoPerson({ given: 'Wanda', sn: 'Webview', mail: 'wanda.webview@notes.acme.test' });
  d.addDominoPerson({ given: 'Xeno', sn: '<b>Markup</b>', mail: 'xeno.markup@notes.acme.test' });
  createdBy = d.cli(['run', 'initial', '--json']).report!.runId;
  slapd.modify(`dn: cn=Wanda Webview,${d.dominoPeopleOu}\nchangetype: modify\nreplace: title\ntitle: Inspector\n`);
  changedBy = d.cli(['run', 'delta-cycle', '--json']).report!.runId;

  server = await startServe(d.configFile, d.env, TOKEN);
  base = server.base;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  await slapd?.stop();
});

describe('the read-only web view', () => {
  it('refuses a request without the token, or with a wrong one, and answers only GET', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/runs`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    const ok = await fetch(`${base}/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'none'");
    const post = await fetch(`${base}/`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: 'x=1' });
    expect(post.status).toBe(405);
  });

  it("an auditor searches, opens the contact's person, and reads its lineage and history in Chromium", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/?token=${TOKEN}`);
    expect(page.url()).toBe(`${base}/`); // the token left the address bar for a cookie
    await page.fill('input[name=mail]', 'wanda*');
    await page.click('button[type=submit]');
    const result = page.locator('#results a', { hasText: '#' }).first();
    await result.click();
    await expect(page.locator('h1').textContent()).resolves.toMatch(/^DominoUser #\d+$/);
    const lineage = await page.locator('#lineage tbody tr').allTextContents();
    expect(lineage.some((row) => row.includes('provisioning') && row.includes(`CN=Wanda Webview,${d.adContactsOu}`) && row.includes(String(createdBy)))).toBe(
      true,
    );
    // Each change with its attributes before and after, one row each (a table in the change's row).
    const change = page.locator('#history > tbody > tr', { hasText: 'mv-update' }).filter({ hasText: String(changedBy) });
    expect(await change.count()).toBe(1);
    expect((await change.locator('table.diff tr', { hasText: 'title' }).locator('td').allTextContents()).map((t) => t.trim())).toEqual(['', 'Inspector']);
    const connectors = await page.locator('#connectors').textContent();
    expect(connectors).toContain('ad-contacts');

    await page.click('nav >> text=Runs');
    expect(await page.locator('#changes-chart rect').count()).toBeGreaterThan(0);
    expect(await page.locator('#runs tbody tr').count()).toBe(2);
    await page.click(`#runs >> text="${changedBy}"`);
    expect(await page.locator('#steps tbody tr').count()).toBe(shippedSteps('delta-cycle').length);

    await page.click('nav >> text=Report');
    const contacts = await page.locator('#contacts tbody tr').allTextContents();
    expect(contacts.find((r) => r.includes('Wanda Webview'))).toMatch(/provisioned.*domino-people/);
    await page.close();
  });

  it('a person who left is found by mail and shown with her last image; the change log, agents and downloads', async () => {
    d.addDominoPerson({ given: 'Lea', sn: 'Leaver', mail: 'lea.leaver@notes.acme.test' });
    expect(d.cli(['run', 'delta-cycle', '--json']).report?.status).toBe('success');
    slapd.modify(`dn: cn=Lea Leaver,${d.dominoPeopleOu}\nchangetype: delete\n`);
    expect(d.cli(['run', 'full-cycle', '--json']).report?.status).toBe('success');

    const page = await browser.newPage();
    await page.goto(`${base}/?token=${TOKEN}`);
    await page.fill('input[name=mail]', 'lea.leaver@notes.acme.test');
    await page.click('button[type=submit]');
    await page.click('#deleted a');
    await expect(page.locator('h1').textContent()).resolves.toMatch(/^DominoUser #\d+ \(deleted\)$/);
    await expect(page.locator('#deleted').textContent()).resolves.toMatch(/^Deleted .* by run \d+: its connector in domino-people was deleted/);
    expect(await page.locator('#attributes').textContent()).toContain('lea.leaver@notes.acme.test');
    expect(await page.locator('#history > tbody > tr', { hasText: 'mv-delete' }).count()).toBe(1);

    // The change log, searched in the form: her contact's deletion, named by its DN.
    await page.click('nav >> text=Changes');
    await page.fill('input[name=object]', 'lea.leaver@notes.acme.test');
    await page.selectOption('select[name=operation]', 'export-delete');
    await page.click('#change-search button[type=submit]');
    const rows = page.locator('#changes > tbody > tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(`CN=Lea Leaver,${d.adContactsOu}`);

    await page.click('nav >> text=Agents');
    const contacts = await page.locator('#agents tbody tr', { hasText: 'ad-contacts' }).locator('td').allTextContents();
    expect(contacts.slice(0, 3)).toEqual(['ad-contacts', 'ad-ldap', expect.stringMatching(/^\d+$/)]);

    // The run page says who started it; the runs list pages and offers its downloads.
    await page.click('nav >> text=Runs');
    await page.click(`#runs a[href="/runs/${createdBy}"]`);
    await expect(page.locator('#started-by').textContent()).resolves.toMatch(/^Started by .+ \(command line\), pid \d+: /);
    await page.close();

    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const csv = await fetch(`${base}/report?section=contacts&format=csv&excel=1`, auth);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="report-contacts.csv"');
    // The bytes: fetch's text() would drop the byte-order mark it is about.
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.startsWith('mvId,csId,agent,contact,mail')).toBe(true);
    expect(text).toContain('"CN=Wanda Webview,');
    const changes = (await (await fetch(`${base}/changes?object=lea.leaver%40notes.acme.test&format=json`, auth)).json()) as { operation: string }[];
    expect(changes.map((c) => c.operation)).toEqual(expect.arrayContaining(['mv-add', 'mv-delete', 'export-delete']));
    for (const bad of ['/runs?offset=abc', '/changes?since=yesterday', '/report?section=nope', '/?format=xml', '/runs?colour=red', '/changes?agent=nosuch'])
      expect((await fetch(`${base}${bad}`, auth)).status, bad).toBe(400);
  });

  it('SIGTERM during a download ends the server, which then refuses connections', async () => {
    const own = await startServe(d.configFile, d.env, TOKEN);
    const download = fetch(`${own.base}/changes?operation=import-add&format=csv`, { headers: { Authorization: `Bearer ${TOKEN}` } })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    const exited = new Promise<number | null>((done) => own.process.once('exit', (code) => done(code)));
    own.stop();
    expect(await exited).toBe(0);
    await download;
    await expect(fetch(`${own.base}/runs`)).rejects.toThrow();
  });

  it('shows markup in names as text', async () => {
    const html = await (await fetch(`${base}/?name=xeno*`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    expect(html).toContain('&lt;b&gt;Markup&lt;/b&gt;');
    expect(html).not.toContain('<b>Markup</b>');
  });
});
