/**
 * Exchange Online under stress, against the local Microsoft server: throttling with Retry-After, a
 * service failing in the middle of a page sequence, an expired delta token, a token that expires
 * during a run, and sign-in with a certificate. A throttled or interrupted delta round resumes
 * without losing or duplicating a change.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { deployExchangeOnline, type ExoDeployment } from './harness/exchange-online.js';

let d: ExoDeployment;
let n = 0;
beforeAll(async () => {
  // One retry after 0.2-0.4 s: enough to ride out one throttled answer, quick to give up on an outage.
  d = await deployExchangeOnline({ pageSize: 3, safety: { retry: { attempts: 1, initialDelayMs: 200, maxDelayMs: 2000 } } });
  d.addDominoPerson({ given: 'Dot', sn: 'Domino', mail: 'dot.domino@notes.acme.example', extra: { uid: 'dot' } });
  // Five people: their Exchange Online contacts come back from Get-MailContact in two pages.
  for (const given of ['Don', 'Dan', 'Del', 'Dix'])
    d.addDominoPerson({ given, sn: 'Domino', mail: `${given.toLowerCase()}.domino@notes.acme.example`, extra: { uid: given.toLowerCase() } });
  newMailboxes(4);
  expect((await d.cli(['run', 'initial', '--json'])).report?.status).toBe('success');
  expect(d.cloud.contacts()).toHaveLength(5);
  expect(d.cloud.log.filter((l) => l.includes('InvokeCommand?$skiptoken'))).not.toEqual([]);
});
afterAll(async () => d?.stop());

function newMailboxes(count: number): string[] {
  return Array.from({ length: count }, () => {
    n++;
    return d.cloud.upsertUser({
      userPrincipalName: `m${n}@acme.onmicrosoft.com`,
      displayName: `Mailbox ${n}`,
      surname: `Mailbox${n}`,
      mail: `m${n}@acme.example`,
      mailNickname: `m${n}`,
      mailbox: 'user',
    }).id;
  });
}

async function contactNames(): Promise<string[]> {
  return (await d.dominoContacts()).map((c) => c.cn);
}

/** How many times the store recorded an add of a connector-space object in domino-contacts. */
function contactAdds(): number {
  const db = new Database(join(d.dir, 'metaverse.db'), { readonly: true });
  try {
    return db.prepare("SELECT COUNT(*) FROM change_log WHERE agent = 'domino-contacts' AND operation = 'export-add'").pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('throttling and failures in the middle of a delta round', () => {
  it('429 with Retry-After on a later page: the request waits as asked, is retried, and the round completes', async () => {
    newMailboxes(7); // three pages of three
    d.cloud.fail({ path: '/users/delta', status: 429, retryAfter: 1, after: 1 });
    const started = Date.now();
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('completed-warnings');
    const problems = r.report!.steps.flatMap((s) => s.problems);
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'retried',
        object: 'exo-mailboxes',
        message: expect.stringMatching(
          /GET \/users\/delta failed \(HTTP 429 TooManyRequests.*\); retrying \(1 attempt left\) after the 1 s the service asked for/,
        ),
      }),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(
      d.cloud.log
        .filter((l) => l.startsWith('GET /v1.0/users/delta'))
        .slice(-4)
        .map((l) => l.split(' -> ')[1]),
    ).toEqual(['200', '429', '200', '200']);
    expect(await contactNames()).toHaveLength(11);
  });

  it('a 503 that outlasts the retries stops the step mid-round; the next run resumes from the page it stopped at, nothing lost or repeated', async () => {
    const before = contactAdds();
    newMailboxes(8);
    d.cloud.fail({ path: '/users/delta', status: 503, after: 1, times: 2 }); // page 2 fails twice: with one retry, given up
    const stopped = await d.cli(['run', 'delta-cycle', '--json']);
    expect(stopped.report?.status).toBe('stopped-server-down');
    const step = stopped.report!.steps.find((s) => s.agent === 'exo-mailboxes')!;
    expect(step.message).toMatch(/gave up on GET \/users\/delta for exo-mailboxes after 1 retries: HTTP 503/);
    // The first page was committed with the link to the second: that is where the next run starts.
    const resumeAt = JSON.parse(d.watermark('exo-mailboxes')!) as { link: string };
    expect(resumeAt.link).toContain('$skiptoken=');

    const logFrom = d.cloud.log.length;
    const resumed = await d.cli(['run', 'delta-cycle', '--json']);
    expect(resumed.report?.status === 'success' || resumed.report?.status === 'completed-warnings').toBe(true);
    const firstDelta = d.cloud.log.slice(logFrom).find((l) => l.startsWith('GET /v1.0/users/delta'));
    expect(firstDelta).toBe('GET /v1.0/users/delta?$skiptoken -> 200');
    expect(await contactNames()).toHaveLength(19);
    expect(contactAdds() - before).toBe(8); // each new mailbox exactly once
  });

  it('an expired delta token (410 Gone) is said out loud and answered with a full round; changes made before it arrive', async () => {
    const [late] = newMailboxes(1);
    d.cloud.expireDeltaTokens();
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('completed-warnings');
    const warnings = r.report!.steps.flatMap((s) => s.problems);
    // Every delta link of the tenant expired: the users' and the groups' agents each say so.
    expect(warnings).toEqual(
      ['exo-mailboxes', 'exo-groups'].map((agent) =>
        expect.objectContaining({
          code: 'delta-unavailable',
          object: agent,
          message: expect.stringMatching(/no longer accepts the stored delta link \(HTTP 410 resyncRequired.*running a full import instead/),
        }),
      ),
    );
    expect(late).toBeDefined();
    expect(await contactNames()).toHaveLength(20);
    expect((await d.cli(['run', 'delta-cycle', '--json'])).report?.status).toBe('success');
  });
});

describe('signing in', () => {
  it('a token that expires during a run is renewed once and the run goes on', async () => {
    newMailboxes(4);
    const issued = d.cloud.tokensIssued();
    d.cloud.expireTokensAt('mailboxSettings', 2);
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('completed-warnings');
    const problems = r.report!.steps.flatMap((s) => s.problems);
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.filter(
        (p) => !(p.code === 'retried' && /HTTP 401 InvalidAuthenticationToken: Lifetime validation failed, the token is expired/.test(p.message)),
      ),
    ).toEqual([]);
    expect(d.cloud.tokensIssued()).toBeGreaterThan(issued + 1);
    expect(await contactNames()).toHaveLength(24);
  });

  it('a wrong client secret stops the step with a message naming what to check, and no secret in it', async () => {
    const env = d.env;
    const secret = env.ENTRA_SECRET;
    env.ENTRA_SECRET = 'not-the-secret';
    const r = await d.cli(['run-step', 'exo-mailboxes', 'delta-import', '--json']);
    env.ENTRA_SECRET = secret;
    expect(r.report?.status).toBe('stopped-server-down');
    expect(r.report!.steps[0]!.message).toMatch(/sign-in to Entra ID failed .*check tenantId, clientId and the client secret or certificate/);
    expect(r.stdout).not.toContain('not-the-secret');
  });

  it('with a certificate instead of a secret: a signed client assertion', async () => {
    const pem = join(d.dir, 'app.pem');
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=dirbridge app',
      '-keyout',
      pem,
      '-out',
      `${pem}.crt`,
    ]);
    expect(made.status).toBe(0);
    writeFileSync(pem, readFileSync(pem, 'utf8') + readFileSync(`${pem}.crt`, 'utf8'));
    chmodSync(pem, 0o600); // a private key only its owner may read: dirbridge refuses one others can
    d.cloud.trustCertificate(readFileSync(`${pem}.crt`, 'utf8'));
    const config = parse(readFileSync(d.configFile, 'utf8')) as { agents: Record<string, Record<string, unknown>> };
    const cloudAgents = ['exo-mailboxes', 'exo-groups', 'exo-contacts'];
    for (const agent of cloudAgents) {
      delete config.agents[agent]!.clientSecret;
      config.agents[agent]!.certificate = { file: pem };
    }
    writeFileSync(d.configFile, stringify(config));
    newMailboxes(1);
    const from = d.cloud.log.length;
    const r = await d.cli(['run', 'delta-cycle', '--json']);
    expect(r.report?.status).toBe('success');
    // One sign-in per agent, each with the certificate.
    expect(d.cloud.log.slice(from).filter((l) => l.includes('/oauth2/v2.0/token'))).toEqual(
      cloudAgents.map(() => `POST /${d.cloud.tenantId}/oauth2/v2.0/token -> 200`),
    );
    expect(await contactNames()).toHaveLength(25);
  });
});
