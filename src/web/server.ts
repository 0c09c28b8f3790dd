/**
 * dirbridge serve: the auditors' read-only web view. It opens the metaverse read-only, answers GET and
 * HEAD only, and requires the access token on every request: as a bearer token, or once in the URL
 * (?token=...), which is then traded for an HttpOnly, SameSite=Strict cookie and removed from the
 * address bar. Bound to localhost unless told otherwise.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LoadedConfig } from '../config/load.js';
import { Inspector, searchConditions } from '../metaverse/inspect.js';
import type { Store } from '../metaverse/store.js';
import { messagePage, objectPage, reportPage, runPage, runsPage, searchPage } from './pages.js';

const COOKIE = 'dirbridge_token';
const HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  // No script at all, no framing, no referrer (the token may have been in the URL once).
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function createWebServer(loaded: LoadedConfig, store: Store, token: string): Server {
  const expected = digest(token);
  const valid = (candidate: string | undefined): boolean => candidate !== undefined && timingSafeEqual(digest(candidate), expected);
  const inspector = new Inspector(store);

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, html: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...HEADERS, ...extra });
      res.end(req.method === 'HEAD' ? undefined : html);
    };
    // Whatever a request holds, it is answered and the server goes on: nothing it sends may throw
    // out of this handler (a thrown error here would stop the process).
    try {
      answer(req, send);
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      if (e instanceof BadRequest) return send(400, messagePage('Bad request', e.message));
      if (e instanceof NotFound) return send(404, messagePage('Not found', e.message));
      send(500, messagePage('Error', (e as Error).message));
    }
  });

  function answer(req: IncomingMessage, send: (status: number, html: string, extra?: Record<string, string>) => void): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, messagePage('Read-only', 'This view changes nothing: only GET and HEAD are answered.'), { Allow: 'GET, HEAD' });
    const url = requestUrl(req.url);
    const fromUrl = url.searchParams.get('token') ?? undefined;
    if (fromUrl !== undefined) {
      if (!valid(fromUrl)) return send(401, messagePage('Access token required', 'The token is not valid.'));
      url.searchParams.delete('token');
      return send(303, '', { Location: sameOriginPath(url), 'Set-Cookie': `${COOKIE}=${encodeURIComponent(fromUrl)}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const cookie = (req.headers.cookie ?? '')
      .split(/;\s*/)
      .find((c) => c.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    if (!valid(bearer) && !valid(cookie === undefined ? undefined : decodedOrUndefined(cookie))) {
      return send(401, messagePage('Access token required', 'Open the address you were given with ?token=..., or send Authorization: Bearer.'), {
        'WWW-Authenticate': 'Bearer',
      });
    }
    send(200, route(url));
  }

  function route(url: URL): string {
    const p = url.pathname;
    if (p === '/') {
      const q = Object.fromEntries(['type', 'mail', 'name', 'where'].map((k) => [k, url.searchParams.get(k) ?? undefined]).filter(([, v]) => v)) as {
        type?: string;
        mail?: string;
        name?: string;
        where?: string;
      };
      const asked = Object.keys(q).length > 0;
      // A term that is not attribute=pattern is left out: the form shows what was asked.
      const { conditions } = searchConditions({ mail: q.mail, name: q.name, where: q.where ? [q.where] : [] });
      return searchPage(
        q,
        Object.keys(loaded.config.metaverse.objectTypes),
        asked ? inspector.searchMv({ ...(q.type ? { type: q.type } : {}), conditions, limit: 200 }) : undefined,
      );
    }
    const object = /^\/object\/(\d+)$/.exec(p);
    if (object) {
      const d = inspector.mvDetail(Number(object[1]));
      if (!d) throw new NotFound(`no metaverse object #${object[1]} (it may have been deleted: search the runs' changes)`);
      return objectPage(d);
    }
    if (p === '/runs') return runsPage(inspector.runs(500));
    const run = /^\/runs\/(\d+)$/.exec(p);
    if (run) {
      const r = inspector.run(Number(run[1]));
      if (!r) throw new NotFound(`no run ${run[1]} in the history`);
      const { steps, errors, changes, ...summary } = r;
      return runPage(summary, steps, errors, changes);
    }
    if (p === '/report') {
      return reportPage(
        inspector.reportContacts(),
        inspector.conflicts(),
        inspector.reportOrphans(),
        (dn, agent) => inspector.resolveCs(agent, dn)[0]?.mvId ?? undefined,
      );
    }
    throw new NotFound(`nothing at ${p}`);
  }
}

class NotFound extends Error {}
class BadRequest extends Error {}

/** The request target as a URL on this server; one that is not a path (or an absolute URL) is a bad request. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new BadRequest('The request target is not a valid address.');
  }
}

/**
 * Where to send the browser back after taking the token: a path on this server only. A path that a
 * browser would read as another host ("//evil.example/x", also after "/.//") is cut back to "/".
 */
function sameOriginPath(url: URL): string {
  const path = url.pathname.replace(/\/{2,}/g, '/').replace(/^(\/\.)+\//, '/');
  return (path.startsWith('/') && !path.startsWith('//') ? path : '/') + url.search;
}

/** A cookie value that is not valid percent-encoding is no token at all. */
function decodedOrUndefined(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
