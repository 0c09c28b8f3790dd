/**
 * dirbridge serve: the auditors' read-only web view. It opens the metaverse read-only, answers GET and
 * HEAD only, and requires the access token on every request: as a bearer token, or once in the URL
 * (?token=...), which is then traded for an HttpOnly, SameSite=Strict cookie and removed from the
 * address bar. Bound to localhost unless told otherwise.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LoadedConfig } from '../config/load.js';
import { referenceAttributesOf } from '../config/schema.js';
import { agentRow, agentView } from '../engine/agent-view.js';
import { unknownAgent } from '../engine/agents.js';
import { CHANGE_OPERATIONS } from '../model/changes.js';
import { type ChangeEntry, Inspector, type MvSummary, RUN_SUMMARY_COLUMNS, searchConditions } from '../metaverse/inspect.js';
import type { Store } from '../metaverse/store.js';
import { csvHeader, csvLines } from '../util/csv.js';
import { parseTime } from '../util/time.js';
import { agentsPage, changesPage, messagePage, objectPage, type ReportSections, reportPage, runPage, runsPage, searchPage } from './pages.js';

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
  const agents = Object.keys(loaded.config.agents);
  /** The report's counts and first page of people with no contact, while the store is unchanged (see report()). */
  let cached: { generation: string; counts: ReturnType<Inspector['reportCounts']>; uncoveredFirst: ReturnType<Inspector['reportUncovered']> } | undefined;

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, html: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...HEADERS, ...extra });
      res.end(req.method === 'HEAD' ? undefined : html);
    };
    // Whatever a request holds, it is answered and the server goes on: nothing it sends may throw
    // out of this handler (a thrown error here would stop the process).
    const fail = (e: unknown): void => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof BadRequest) return send(400, messagePage('Bad request', e.message));
      if (e instanceof NotFound) return send(404, messagePage('Not found', e.message));
      send(500, messagePage('Error', (e as Error).message));
    };
    try {
      const reply = answer(req, send);
      if (reply) stream(req, res, reply).catch(fail);
    } catch (e) {
      fail(e);
    }
  });

  /** Answers the request; a download is returned to be streamed a page at a time. */
  function answer(req: IncomingMessage, send: (status: number, html: string, extra?: Record<string, string>) => void): Download | undefined {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void send(405, messagePage('Read-only', 'This view changes nothing: only GET and HEAD are answered.'), { Allow: 'GET, HEAD' });
    const url = requestUrl(req.url);
    const fromUrl = url.searchParams.get('token') ?? undefined;
    if (fromUrl !== undefined) {
      if (!valid(fromUrl)) return void send(401, messagePage('Access token required', 'The token is not valid.'));
      url.searchParams.delete('token');
      return void send(303, '', { Location: sameOriginPath(url), 'Set-Cookie': `${COOKIE}=${encodeURIComponent(fromUrl)}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const cookie = (req.headers.cookie ?? '')
      .split(/;\s*/)
      .find((c) => c.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    if (!valid(bearer) && !valid(cookie === undefined ? undefined : decodedOrUndefined(cookie))) {
      return void send(401, messagePage('Access token required', 'Open the address you were given with ?token=..., or send Authorization: Bearer.'), {
        'WWW-Authenticate': 'Bearer',
      });
    }
    const routed = route(url);
    if (typeof routed === 'string') return void send(200, routed);
    return routed;
  }

  function route(url: URL): string | Download {
    const p = url.pathname;
    if (p === '/') {
      const q = params(url, { type: 'text', mail: 'text', name: 'text', where: 'text', offset: 'count', format: 'format', excel: 'flag' });
      const asked = ['type', 'mail', 'name', 'where'].some((k) => q[k]);
      const { conditions, invalid } = searchConditions({ mail: q.mail, name: q.name, where: q.where ? [q.where] : [] });
      if (invalid.length) throw new BadRequest(`Attribute takes attribute=pattern, not "${invalid[0]}".`);
      const search = (limit: number, offset: number, afterId?: number): MvSummary[] =>
        inspector.searchMv({ ...(q.type ? { type: q.type } : {}), conditions, limit, offset, ...(afterId === undefined ? {} : { afterId }) });
      if (q.format)
        return download(
          q,
          'metaverse-search',
          keyset(search, (r) => r.id),
          ['id', 'objectType', 'cn', 'mail', 'sources', 'createdRun', 'updatedAt'],
        );
      const types = Object.keys(loaded.config.metaverse.objectTypes);
      if (!asked) return searchPage(q, types, undefined);
      const offset = Number(q.offset ?? 0);
      const rows = search(PAGE + 1, offset);
      // A mail address asked for as such also finds the objects that were deleted.
      const deleted =
        q.mail && !q.mail.includes('*') && offset === 0
          ? inspector.resolveDeletedMv(q.mail).map((id) => {
              const d = inspector.deletedMvDetail(id)!;
              return { id, objectType: d.objectType, mail: d.attributes.find((a) => a.attribute === 'mail')?.values[0] ?? '', deletedAt: d.deleted!.at };
            })
          : [];
      return searchPage(q, types, { rows: rows.slice(0, PAGE), deleted, paging: { url, offset, limit: PAGE, more: rows.length > PAGE } });
    }
    const object = /^\/object\/(\d+)$/.exec(p);
    if (object) {
      params(url, {});
      const id = Number(object[1]);
      const d = inspector.mvDetail(id, (type) => referenceAttributesOf(loaded.config.rules, type)) ?? inspector.deletedMvDetail(id);
      if (!d) throw new NotFound(`no metaverse object #${object[1]}, present or deleted`);
      return objectPage(d);
    }
    if (p === '/runs') {
      const q = params(url, { offset: 'count', format: 'format', excel: 'flag' });
      if (q.format) return download(q, 'runs', (limit, offset) => inspector.runs(limit, offset), [...RUN_SUMMARY_COLUMNS]);
      const offset = Number(q.offset ?? 0);
      const runs = inspector.runs(RUNS_PAGE, offset);
      return runsPage(runs, { url, offset, limit: RUNS_PAGE, more: offset + RUNS_PAGE < inspector.countRuns(), total: inspector.countRuns() });
    }
    const run = /^\/runs\/(\d+)$/.exec(p);
    if (run) {
      const q = params(url, { offset: 'count', format: 'format', excel: 'flag' });
      const id = Number(run[1]);
      const offset = Number(q.offset ?? 0);
      const r = inspector.run(id, { limit: CHANGES_PAGE, offset });
      if (!r) throw new NotFound(`no run ${run[1]} in the history`);
      if (q.format) return changesDownload(q, `run-${id}-changes`, (limit, after) => inspector.runChanges(id, limit, 0, after ?? 0));
      const total = inspector.countRunChanges(id);
      return runPage(r, { total, paging: { url, offset, limit: CHANGES_PAGE, more: offset + CHANGES_PAGE < total } });
    }
    if (p === '/changes') {
      const q = params(url, {
        object: 'text',
        agent: 'text',
        run: 'count',
        since: 'time',
        until: 'time',
        operation: 'text',
        offset: 'count',
        format: 'format',
        excel: 'flag',
      });
      const problem = q.agent === undefined ? undefined : unknownAgent(loaded, q.agent);
      if (problem) throw new BadRequest(problem);
      const query = (limit: number, offset: number, afterId?: number): ChangeEntry[] =>
        inspector.searchChanges({
          ...(afterId === undefined ? {} : { afterId }),
          ...(q.object ? { object: q.object } : {}),
          ...(q.agent ? { agent: q.agent } : {}),
          ...(q.run ? { runId: Number(q.run) } : {}),
          ...(q.since ? { since: q.since } : {}),
          ...(q.until ? { until: q.until } : {}),
          ...(q.operation ? { operation: q.operation } : {}),
          limit,
          offset,
        }).entries;
      if (q.format) return changesDownload(q, 'changes', (limit, after) => query(limit, 0, after ?? 0));
      const asked = ['object', 'agent', 'run', 'since', 'until', 'operation'].some((k) => q[k]);
      if (!asked) return changesPage(q, [...CHANGE_OPERATIONS], agents, undefined);
      const offset = Number(q.offset ?? 0);
      const rows = query(CHANGES_PAGE + 1, offset);
      return changesPage(q, [...CHANGE_OPERATIONS], agents, {
        changes: rows.slice(0, CHANGES_PAGE),
        paging: { url, offset, limit: CHANGES_PAGE, more: rows.length > CHANGES_PAGE },
      });
    }
    if (p === '/agents') {
      const q = params(url, { format: 'format', excel: 'flag' });
      const stats = agentView(loaded, inspector, agents);
      if (q.format === 'json') return { filename: 'agents.json', json: true, pages: once(stats) };
      if (q.format) return { filename: 'agents.csv', json: false, pages: once(stats.map(agentRow)), excel: q.excel === '1' };
      return agentsPage(stats, url);
    }
    if (p === '/report') {
      const q = params(url, { section: 'text', offset: 'count', format: 'format', excel: 'flag' });
      const sections = {
        contacts: (limit: number, offset: number) => inspector.reportContacts(limit, offset),
        conflicts: (limit: number, offset: number) => inspector.conflicts().slice(offset, offset + limit),
        orphans: (limit: number, offset: number) => inspector.reportOrphans(limit, offset),
        uncovered: (limit: number, offset: number) => (offset === 0 ? report().uncoveredFirst : inspector.reportUncovered(limit, offset)).slice(0, limit),
      };
      // Downloads read on from the last row (an offset would scan every row before it again).
      const whole = {
        contacts: keyset(
          (limit, _o, after?: number) => inspector.reportContacts(limit, 0, after ?? 0),
          (r) => r.csId,
        ),
        conflicts: (limit: number, offset: number) => inspector.conflicts().slice(offset, offset + limit),
        orphans: (limit: number, offset: number) => inspector.reportOrphans(limit, offset),
        uncovered: keyset(
          (limit, _o, after?: number) => inspector.reportUncovered(limit, 0, after ?? 0),
          (r) => r.mvId,
        ),
      };
      type Section = keyof typeof sections;
      if (q.section !== undefined && !(q.section in sections)) throw new BadRequest(`section is one of ${Object.keys(sections).join(', ')}`);
      const section = q.section as Section | undefined;
      if (q.format) {
        if (!section) throw new BadRequest(`a download is of one section: add section=${Object.keys(sections).join(', section=')}`);
        return download(q, `report-${section}`, whole[section] as (l: number, o: number) => object[], undefined);
      }
      const offset = Number(q.offset ?? 0);
      const shown: Partial<ReportSections> = {};
      for (const name of (section ? [section] : Object.keys(sections)) as Section[]) {
        const rows = sections[name](PAGE + 1, section ? offset : 0);
        const sectionUrl = new URL(`/report?section=${name}`, url);
        (shown as Record<string, unknown>)[name] = {
          rows: rows.slice(0, PAGE),
          paging: { url: sectionUrl, offset: section ? offset : 0, limit: PAGE, more: rows.length > PAGE },
        };
      }
      return reportPage(new Date().toISOString(), report().counts, shown);
    }
    throw new NotFound(`nothing at ${p}`);
  }

  /**
   * The report's counts and the first page of people with no contact each read the whole metaverse
   * (over a second at 100,000 per side): kept until the store changes, which a run does. Nothing is
   * kept while a run is in progress.
   */
  function report(): NonNullable<typeof cached> {
    const generation = inspector.storeGeneration();
    if (cached?.generation === generation) return cached;
    const fresh = { generation, counts: inspector.reportCounts(), uncoveredFirst: inspector.reportUncovered(PAGE + 1) };
    cached = generation.endsWith('in-progress') ? undefined : fresh;
    return fresh;
  }

  function download<T extends object>(
    q: Record<string, string | undefined>,
    name: string,
    fetch: (limit: number, offset: number) => T[],
    columns: (keyof T & string)[] | undefined,
  ): Download {
    return { filename: `${name}.${q.format}`, json: q.format === 'json', columns, pages: pagesOf(fetch), excel: q.excel === '1' };
  }

  /** Changes for a spreadsheet: one line per attribute changed; read on after the last change, not by offset. */
  function changesDownload(q: Record<string, string | undefined>, name: string, fetch: (limit: number, afterId?: number) => ChangeEntry[]): Download {
    const entries = keyset(
      (limit, _offset, after?: number) => fetch(limit, after),
      (c) => c.id,
    );
    if (q.format === 'json') return download(q, name, entries, undefined);
    return download(
      q,
      name,
      (limit, offset) =>
        entries(limit, offset).flatMap((c) =>
          (c.rows.length ? c.rows : [{ attribute: '', before: '', after: '' }]).map((r) => ({
            change: c.id,
            at: c.at,
            run: c.runId ?? '',
            where: c.space === 'mv' ? 'metaverse' : (c.agent ?? ''),
            object: c.space === 'mv' ? `${c.object} #${c.objectId}` : (c.dn ?? c.object),
            operation: c.operation,
            ...r,
          })),
        ),
      ['change', 'at', 'run', 'where', 'object', 'operation', 'attribute', 'before', 'after'],
    );
  }
}

/** Rows shown per page; downloads read this many at a time and let other requests in between. */
const PAGE = 100;
const RUNS_PAGE = 50;
const CHANGES_PAGE = 100;
const DOWNLOAD_PAGE = 1000;

interface Download {
  filename: string;
  json: boolean;
  excel?: boolean;
  columns?: string[] | undefined;
  pages: Iterable<object[]>;
}

/**
 * A fetch by offset made from one that reads on after a key: the download's pages (every call after
 * the first) continue from the last row's key, so no page rescans the rows before it.
 */
function keyset<T>(fetch: (limit: number, offset: number, after?: number) => T[], keyOf: (row: T) => number): (limit: number, offset: number) => T[] {
  let last: number | undefined;
  return (limit, offset) => {
    const rows = offset === 0 ? fetch(limit, 0) : fetch(limit, 0, last);
    if (rows.length) last = keyOf(rows[rows.length - 1]!);
    return rows;
  };
}

function* pagesOf<T extends object>(fetch: (limit: number, offset: number) => T[]): Iterable<T[]> {
  // Changes fan out to several lines each, so the offset counts what was fetched, not what was written.
  for (let offset = 0; ; offset += DOWNLOAD_PAGE) {
    const rows = fetch(DOWNLOAD_PAGE, offset);
    if (rows.length) yield rows;
    if (rows.length < DOWNLOAD_PAGE) return;
  }
}

function* once<T extends object>(rows: T[]): Iterable<T[]> {
  yield rows;
}

/**
 * A whole list written a page at a time. Between pages the event loop answers other requests, so a
 * download of 100,000 contacts does not stop the view for everyone else.
 */
async function stream(req: IncomingMessage, res: ServerResponse, d: Download): Promise<void> {
  let columns = d.columns;
  // The head goes out with the first page, so a failure reading it is still an error page.
  const begin = (first: object[]): boolean => {
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': d.json ? 'application/json; charset=utf-8' : 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${d.filename}"`,
    });
    if (req.method === 'HEAD') return (void res.end(), false);
    columns ??= Object.keys(first[0] ?? {});
    res.write(d.json ? '[\n' : `${d.excel ? '\uFEFF' : ''}${columns.length ? csvHeader(columns) : ''}`);
    return true;
  };
  let started = false;
  for (const rows of d.pages) {
    if (!started && !begin(rows)) return;
    if (started && d.json) res.write(',\n');
    started = true;
    const chunk = d.json ? rows.map((r) => JSON.stringify(r)).join(',\n') : csvLines(columns as never, rows as never);
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    await new Promise((r) => setImmediate(r));
    if (res.destroyed) return;
  }
  if (!started && !begin([])) return;
  res.end(d.json ? (started ? '\n]\n' : ']\n') : '');
}

type ParamKind = 'text' | 'count' | 'time' | 'format' | 'flag';

/**
 * The query parameters a page takes, checked: an unknown one, a count that is not a number, a time
 * that is not one, or a format other than csv or json is a bad request that names it. Empty ones are
 * left out (a form sends every field).
 */
function params(url: URL, allowed: Record<string, ParamKind>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of url.searchParams) {
    const kind = allowed[key];
    if (!kind)
      throw new BadRequest(`this page takes no parameter "${key}"${Object.keys(allowed).length ? `; it takes ${Object.keys(allowed).join(', ')}` : ''}`);
    if (value === '') continue;
    if (kind === 'count' && !/^\d{1,9}$/.test(value)) throw new BadRequest(`${key} takes a number, not "${value}"`);
    if (kind === 'format' && value !== 'csv' && value !== 'json') throw new BadRequest(`format is csv or json, not "${value}"`);
    if (kind === 'flag' && value !== '1') throw new BadRequest(`${key} is 1 or absent, not "${value}"`);
    if (kind === 'time') {
      try {
        out[key] = parseTime(key, value);
      } catch (e) {
        throw new BadRequest((e as Error).message);
      }
      continue;
    }
    out[key] = value;
  }
  return out;
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
