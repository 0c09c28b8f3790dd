/**
 * A local HTTPS server that speaks the Microsoft protocols the cloud agents use, faithfully enough to
 * test them for real: the Entra ID token endpoint (client credentials, tokens that expire), Graph's
 * /users/delta and /groups/delta (pages linked by @odata.nextLink, a final @odata.deltaLink, @removed
 * for deletions, 410 Gone for an expired token), /users/{id}/mailboxSettings (404 MailboxNotEnabledForRESTAPI
 * without a mailbox), and Exchange Online's admin InvokeCommand for the mail-contact cmdlets. Faults
 * are injected per request: throttling with Retry-After, 5xx, a token that expires early.
 */
import { constants, createPublicKey, type KeyObject, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from './slapd.js';

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  givenName?: string;
  surname?: string;
  mail?: string;
  mailNickname?: string;
  proxyAddresses?: string[];
  jobTitle?: string | null;
  businessPhones?: string[];
  accountEnabled?: boolean;
  /** Not a Graph property: whether the user has an Exchange Online mailbox (and which purpose). */
  mailbox?: 'user' | 'shared' | 'room' | 'equipment' | false;
}

/** A Microsoft 365 group or distribution list, as /groups/delta returns it. */
export interface GraphGroup {
  id: string;
  displayName: string;
  mail?: string | null;
  mailNickname?: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  proxyAddresses?: string[];
  description?: string | null;
}

export interface MailContact {
  Guid: string;
  Name: string;
  DisplayName: string;
  Alias: string;
  ExternalEmailAddress: string;
  /** Assigned by Exchange Online when the contact is made, as the real service does. */
  LegacyExchangeDN: string;
  [custom: `CustomAttribute${number}`]: string;
}

interface Fault {
  /** Which requests: a path fragment ("/users/delta", "mailboxSettings", "InvokeCommand"). */
  path: string;
  status: number;
  retryAfter?: number;
  code?: string;
  /** Skip this many matching requests first (a fault in the middle of a page sequence). */
  after: number;
  times: number;
  /** Instead of an error: every token issued so far expires now (the request then gets 401). */
  expireTokens?: boolean;
}

export interface FakeMicrosoft {
  origin: string;
  /** The CA that signed the server certificate: give it to Node with NODE_EXTRA_CA_CERTS. */
  caFile: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Users per /users/delta page. */
  pageSize: number;
  /** How long the server honours a token it issued (the token says one hour, as Entra's do). */
  tokenLifetimeMs: number;
  upsertUser(user: Partial<GraphUser> & { userPrincipalName: string }): GraphUser;
  removeUser(id: string): void;
  upsertGroup(group: Partial<GraphGroup> & { displayName: string }): GraphGroup;
  removeGroup(id: string): void;
  /** Every delta token issued so far is refused with 410 Gone from now on. */
  expireDeltaTokens(): void;
  fail(fault: { path: string; status: number; retryAfter?: number; code?: string; after?: number; times?: number }): void;
  /** After `after` more requests to `path`, every token issued so far expires (a token expiring mid-run). */
  expireTokensAt(path: string, after: number): void;
  /** The app's certificate: a client assertion signed with its key is accepted instead of the secret. */
  trustCertificate(pem: string): void;
  contacts(): MailContact[];
  /** Requests served, in order, as "METHOD path -> status" (with ?$skiptoken or ?$deltatoken when present). */
  log: string[];
  tokensIssued(): number;
  stop(): Promise<void>;
}

const MAILBOX_MISSING = { error: { code: 'MailboxNotEnabledForRESTAPI', message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.' } };

export async function startFakeMicrosoft(options: { pageSize?: number } = {}): Promise<FakeMicrosoft> {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-graph-'));
  const certs = makeCertificates(dir);
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = randomBytes(18).toString('base64url');
  const users = new Map<string, GraphUser>();
  const groups = new Map<string, GraphGroup>();
  /** Change sequence: each user's last change; a delta token is a position in it. */
  const changed = new Map<string, number>();
  /** Each removed object's position in the change sequence, and the feed it left. */
  const removed = new Map<string, { at: number; kind: 'users' | 'groups' }>();
  let seq = 0;
  /** Delta tokens of an older generation are expired. */
  let epoch = 0;
  const rounds = new Map<string, { items: Record<string, unknown>[]; until: number; select: string }>();
  const tokens = new Map<string, number>();
  const faults: Fault[] = [];
  const contacts = new Map<string, MailContact>();
  const log: string[] = [];
  let origin = '';
  let appKey: KeyObject | undefined;

  /** A client assertion (RFC 7523): a JWT for this client and this token endpoint, signed by the app's key. */
  const assertionValid = (jwt: string, audience: string): boolean => {
    const [h, p, sig] = jwt.split('.');
    if (!h || !p || !sig || !appKey) return false;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: string; iss?: string; sub?: string; exp?: number };
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(sig, 'base64url');
    const ok =
      header.alg === 'PS256'
        ? verify('sha256', data, { key: appKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
        : header.alg === 'RS256'
          ? verify('sha256', data, appKey, signature)
          : false;
    return ok && claims.iss === clientId && claims.sub === clientId && claims.aud === audience && (claims.exp ?? 0) * 1000 > Date.now();
  };

  /** An object added or changed in a feed: the next delta round from before now returns it. */
  const put = <T extends { id: string }>(feed: Map<string, T>, o: T): T => {
    feed.set(o.id, o);
    removed.delete(o.id);
    changed.set(o.id, ++seq);
    return o;
  };
  /** An object gone from a feed: the next delta round from before now returns it as @removed. */
  const drop = (feed: Map<string, unknown>, id: string, kind: 'users' | 'groups'): void => {
    feed.delete(id);
    changed.delete(id);
    removed.set(id, { at: ++seq, kind });
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const select = (u: GraphUser | GraphGroup, fields: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = { id: u.id };
    for (const f of fields) if (f !== 'id') out[f] = (u as unknown as Record<string, unknown>)[f] ?? null;
    return out;
  };

  /** One delta feed: users or groups share the change sequence, as Graph's tokens are positions in time. */
  function delta(url: URL, res: ServerResponse, kind: 'users' | 'groups'): void {
    const feed: Map<string, GraphUser | GraphGroup> = kind === 'users' ? users : groups;
    const skip = url.searchParams.get('$skiptoken');
    let roundId: string;
    let offset = 0;
    if (skip) {
      [roundId, offset] = [skip.split('.')[0]!, Number(skip.split('.')[1])];
      if (!rounds.has(roundId)) return send(res, 400, { error: { code: 'syncStateNotFound', message: 'The sync state is not found' } });
    } else {
      // As in Graph, the $select of the first request is encoded in the tokens that follow.
      const token = url.searchParams.get('$deltatoken');
      const [position, generation, encodedSelect] = (token ?? '').split('.');
      const selected = token === null ? (url.searchParams.get('$select') ?? '') : Buffer.from(encodedSelect ?? '', 'base64url').toString();
      const fields = selected.split(',').filter(Boolean);
      const since = token === null ? undefined : Number(position);
      if (since !== undefined && Number(generation) < epoch) {
        return send(
          res,
          410,
          { error: { code: 'resyncRequired', message: 'Resync required: the delta token is expired.' } },
          { Location: `${origin}/v1.0/${kind}/delta?$deltatoken=` },
        );
      }
      // A round is a snapshot: changes made while it is read belong to the next round.
      const items: Record<string, unknown>[] = [];
      for (const u of [...feed.values()].sort((a, b) => a.id.localeCompare(b.id))) {
        if (since === undefined || (changed.get(u.id) ?? 0) > since) items.push(select(u, fields));
      }
      if (since !== undefined)
        for (const [id, gone] of removed) if (gone.at > since && gone.kind === kind) items.push({ id, '@removed': { reason: 'deleted' } });
      roundId = randomBytes(6).toString('hex');
      rounds.set(roundId, { items, until: seq, select: selected });
    }
    const round = rounds.get(roundId)!;
    const page = round.items.slice(offset, offset + pageSize);
    const next = offset + pageSize < round.items.length;
    send(res, 200, {
      '@odata.context': `${origin}/v1.0/$metadata#${kind}(${round.select})`,
      value: page,
      ...(next
        ? { '@odata.nextLink': `${origin}/v1.0/${kind}/delta?$skiptoken=${roundId}.${offset + pageSize}` }
        : { '@odata.deltaLink': `${origin}/v1.0/${kind}/delta?$deltatoken=${round.until}.${epoch}.${Buffer.from(round.select).toString('base64url')}` }),
    });
  }

  function invoke(body: { CmdletInput?: { CmdletName?: string; Parameters?: Record<string, unknown> } }, url: URL, res: ServerResponse): void {
    const name = body.CmdletInput?.CmdletName;
    const p = body.CmdletInput?.Parameters ?? {};
    const find = (identity: unknown): MailContact | undefined =>
      [...contacts.values()].find((c) => c.Guid === identity || c.Name === identity || c.Alias === identity);
    const notFound = (): void =>
      send(res, 404, {
        error: {
          code: 'ManagementObjectNotFoundException',
          message: `|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object '${String(p.Identity)}' couldn't be found.`,
        },
      });
    const conflict = (c: Partial<MailContact>, self?: MailContact): string | undefined => {
      for (const o of contacts.values()) {
        if (o === self) continue;
        if (c.Name !== undefined && o.Name.toLowerCase() === c.Name.toLowerCase())
          return `The name "${c.Name}" is already being used. Please try another name.`;
        if (c.ExternalEmailAddress !== undefined && o.ExternalEmailAddress.toLowerCase() === c.ExternalEmailAddress.toLowerCase())
          return `The proxy address "${c.ExternalEmailAddress}" is already being used by the proxy addresses or LegacyExchangeDN of "${o.Name}".`;
      }
      return undefined;
    };
    if (name === 'Get-MailContact') {
      if (p.Identity !== undefined) {
        const c = find(p.Identity);
        return c ? send(res, 200, { value: [c] }) : notFound();
      }
      const all = [...contacts.values()];
      const offset = Number(url.searchParams.get('$skiptoken') ?? 0);
      const next = offset + pageSize < all.length;
      return send(res, 200, {
        value: all.slice(offset, offset + pageSize),
        ...(next ? { '@odata.nextLink': `${origin}${url.pathname}?$skiptoken=${offset + pageSize}` } : {}),
      });
    }
    if (name === 'New-MailContact') {
      if (typeof p.Name !== 'string' || typeof p.ExternalEmailAddress !== 'string')
        return send(res, 400, { error: { code: 'ParameterBindingException', message: 'Name and ExternalEmailAddress are mandatory' } });
      const guid = randomUUID();
      const alias = String(p.Alias ?? p.Name.replace(/\W/g, ''));
      const fresh = {
        Guid: guid,
        Name: p.Name,
        DisplayName: String(p.DisplayName ?? p.Name),
        Alias: alias,
        ExternalEmailAddress: p.ExternalEmailAddress,
        LegacyExchangeDN: `/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${guid.replace(/-/g, '')}-${alias}`,
      } as MailContact;
      const why = conflict(fresh);
      if (why) return send(res, 400, { error: { code: 'ProxyAddressExistsException', message: why } });
      contacts.set(fresh.Guid, fresh);
      return send(res, 200, { value: [fresh] });
    }
    if (name === 'Set-MailContact') {
      const c = find(p.Identity);
      if (!c) return notFound();
      const { Identity: _identity, ...changes } = p;
      const why = conflict(changes as Partial<MailContact>, c);
      if (why) return send(res, 400, { error: { code: 'ProxyAddressExistsException', message: why } });
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete (c as unknown as Record<string, unknown>)[k];
        else (c as unknown as Record<string, unknown>)[k] = String(v);
      }
      return send(res, 200, { value: [] });
    }
    if (name === 'Remove-MailContact') {
      const c = find(p.Identity);
      if (!c) return notFound();
      contacts.delete(c.Guid);
      return send(res, 200, { value: [] });
    }
    send(res, 400, { error: { code: 'CommandNotFoundException', message: `The term '${String(name)}' is not recognized` } });
  }

  const server = createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const text = Buffer.concat(chunks).toString();
      const token = url.searchParams.has('$skiptoken') ? '?$skiptoken' : url.searchParams.has('$deltatoken') ? '?$deltatoken' : '';
      const status = (s: number): void => void log.push(`${req.method} ${url.pathname}${token} -> ${s}`);
      const reply = res.writeHead.bind(res);
      res.writeHead = ((code: number, ...rest: never[]) => {
        status(code);
        return reply(code, ...rest);
      }) as typeof res.writeHead;

      if (url.pathname.endsWith('/.well-known/openid-configuration')) {
        const base = `${origin}/${tenantId}`;
        return send(res, 200, {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
        });
      }
      if (url.pathname === `/${tenantId}/oauth2/v2.0/token` && req.method === 'POST') {
        const form = new URLSearchParams(text);
        const byCertificate =
          form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
          assertionValid(form.get('client_assertion') ?? '', `${origin}${url.pathname}`);
        if (
          form.get('grant_type') !== 'client_credentials' ||
          form.get('client_id') !== clientId ||
          (!byCertificate && form.get('client_secret') !== clientSecret)
        ) {
          return send(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
        }
        const token = randomBytes(24).toString('base64url');
        tokens.set(token, Date.now() + fake.tokenLifetimeMs);
        return send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      }
      const expiry = faults.find((f) => f.expireTokens && url.pathname.includes(f.path));
      if (expiry) {
        if (expiry.after > 0) expiry.after--;
        else {
          faults.splice(faults.indexOf(expiry), 1);
          for (const t of tokens.keys()) tokens.set(t, Date.now() - 1);
        }
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const expires = bearer ? tokens.get(bearer) : undefined;
      if (expires === undefined || expires < Date.now()) {
        return send(res, 401, {
          error: {
            code: 'InvalidAuthenticationToken',
            message: expires === undefined ? 'Access token is empty or not valid.' : 'Lifetime validation failed, the token is expired.',
          },
        });
      }
      const fault = faults.find((f) => !f.expireTokens && (url.pathname.includes(f.path) || url.search.includes(f.path)));
      if (fault) {
        if (fault.after > 0) fault.after--;
        else {
          if (--fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
          return send(
            res,
            fault.status,
            { error: { code: fault.code ?? (fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable'), message: 'injected by the test' } },
            fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {},
          );
        }
      }
      if (url.pathname === '/v1.0/users/delta' && req.method === 'GET') return delta(url, res, 'users');
      if (url.pathname === '/v1.0/groups/delta' && req.method === 'GET') return delta(url, res, 'groups');
      const settings = /^\/v1\.0\/users\/([^/]+)\/mailboxSettings$/.exec(url.pathname);
      if (settings && req.method === 'GET') {
        const u = users.get(decodeURIComponent(settings[1]!));
        if (!u) return send(res, 404, { error: { code: 'Request_ResourceNotFound', message: 'Resource does not exist' } });
        return u.mailbox ? send(res, 200, { userPurpose: u.mailbox }) : send(res, 404, MAILBOX_MISSING);
      }
      if (url.pathname === `/adminapi/beta/${tenantId}/InvokeCommand` && req.method === 'POST') return invoke(JSON.parse(text || '{}') as never, url, res);
      send(res, 404, { error: { code: 'NotFound', message: `no such endpoint ${req.method} ${url.pathname}` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const pageSize = options.pageSize ?? 3;

  const fake: FakeMicrosoft = {
    origin,
    caFile: certs.ca,
    tenantId,
    clientId,
    clientSecret,
    pageSize,
    tokenLifetimeMs: 60 * 60 * 1000,
    upsertUser(partial) {
      const existing = [...users.values()].find((u) => u.id === partial.id || u.userPrincipalName === partial.userPrincipalName);
      return put(users, { id: randomUUID(), accountEnabled: true, businessPhones: [], ...existing, ...partial } as GraphUser);
    },
    removeUser: (id) => drop(users, id, 'users'),
    upsertGroup(partial) {
      const existing = [...groups.values()].find((g) => g.id === partial.id);
      return put(groups, { id: randomUUID(), mailEnabled: true, securityEnabled: false, groupTypes: [], ...existing, ...partial } as GraphGroup);
    },
    removeGroup: (id) => drop(groups, id, 'groups'),
    expireDeltaTokens() {
      epoch++;
    },
    fail({ path, status, retryAfter, code, after = 0, times = 1 }) {
      faults.push({ path, status, after, times, ...(retryAfter !== undefined ? { retryAfter } : {}), ...(code ? { code } : {}) });
    },
    expireTokensAt(path, after) {
      faults.push({ path, status: 401, after, times: 1, expireTokens: true });
    },
    trustCertificate(pem) {
      appKey = createPublicKey(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'pem' }));
    },
    contacts: () => [...contacts.values()].map((c) => ({ ...c })),
    log,
    tokensIssued: () => tokens.size,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
        rmSync(dir, { recursive: true, force: true });
      }),
  };
  return fake;
}
