/**
 * The HTML of the auditors' web view: plain server-rendered pages, no script. Every value from the
 * store goes through esc(), so a name with markup in it is shown, never run. Lists come a page at a
 * time, with links to the next and previous page and to the same list as CSV and JSON.
 */
import type {
  AgentStatistics,
  ChangeEntry,
  ConflictLine,
  MvDetail,
  MvSummary,
  ReportContact,
  ReportOrphan,
  ReportUncovered,
  RunDetail,
  RunSummary,
} from '../metaverse/inspect.js';
import { describeOrigin } from '../metaverse/inspect.js';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - dirbridge</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}nav a{margin-right:1rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}th{background:#f3f3f3}
code,pre{font-size:.85rem}pre{white-space:pre-wrap;margin:0}.muted{color:#777}form label{margin-right:.75rem}.deleted{color:#a00}
table.diff{margin:0}table.diff td{border-color:#e3e3e3}
</style></head>
<body><nav><a href="/">Search</a><a href="/changes">Changes</a><a href="/runs">Runs</a><a href="/agents">Agents</a><a href="/report">Report</a><span class="muted">dirbridge, read-only</span></nav>
<h1>${esc(title)}</h1>
${body}
</body></html>`;
}

export function table(headers: string[], rows: string[][], id?: string): string {
  if (!rows.length) return `<p class="muted"${id ? ` id="${id}"` : ''}>none</p>`;
  return `<table${id ? ` id="${id}"` : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Where a list page stands: its address, first row and page size, and whether more rows follow. */
export interface Paging {
  url: URL;
  offset: number;
  limit: number;
  more: boolean;
  /** All rows, when known. */
  total?: number;
  /** The query parameter that holds the offset (a page with several lists has one per list). */
  param?: string;
}

function withParams(url: URL, change: Record<string, string | undefined>): string {
  const u = new URL(url.href);
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return esc(u.pathname + u.search);
}

/** "rows 101-200 of 1,234", links to the previous and next page, and the downloads of the list. */
export function pager(p: Paging, shown: number, downloads = true): string {
  const param = p.param ?? 'offset';
  const parts: string[] = [];
  parts.push(shown ? `rows ${p.offset + 1}-${p.offset + shown}${p.total !== undefined ? ` of ${p.total}` : ''}` : p.offset ? 'no more rows' : '');
  if (p.offset > 0) parts.push(`<a rel="prev" href="${withParams(p.url, { [param]: String(Math.max(0, p.offset - p.limit)) })}">previous</a>`);
  if (p.more) parts.push(`<a rel="next" href="${withParams(p.url, { [param]: String(p.offset + p.limit) })}">next</a>`);
  if (downloads) parts.push(downloadLinks(p.url));
  return `<p class="pager">${parts.filter(Boolean).join(' · ')}</p>`;
}

/** The same list, whole (not just this page), as CSV for a spreadsheet and as JSON. */
export function downloadLinks(url: URL, extra: Record<string, string> = {}): string {
  return `download: <a href="${withParams(url, { ...extra, format: 'csv', offset: undefined })}">CSV</a> <a href="${withParams(url, { ...extra, format: 'csv', excel: '1', offset: undefined })}">CSV for Excel</a> <a href="${withParams(url, { ...extra, format: 'json', offset: undefined })}">JSON</a>`;
}

const runLink = (r: number | null): string => (r === null ? '' : `<a href="/runs/${r}">${r}</a>`);

export function searchPage(
  q: { type?: string; mail?: string; name?: string; where?: string },
  types: string[],
  results: { rows: MvSummary[]; deleted: { id: number; objectType: string; mail: string; deletedAt: string }[]; paging: Paging } | undefined,
): string {
  const form = `<form method="get" action="/" id="search">
<label>Type <select name="type"><option value="">any</option>${types.map((t) => `<option${q.type === t ? ' selected' : ''}>${esc(t)}</option>`).join('')}</select></label>
<label>Mail <input name="mail" value="${esc(q.mail)}" placeholder="jane*@acme.com"></label>
<label>Name <input name="name" value="${esc(q.name)}"></label>
<label>Attribute <input name="where" value="${esc(q.where)}" placeholder="title=engineer*"></label>
<button type="submit">Search</button></form><p class="muted">Case-insensitive; * matches anything. A mail address without * also finds deleted objects.</p>`;
  if (!results) return layout('Metaverse search', form);
  const list = table(
    ['object', 'type', 'name', 'mail', 'sources', 'created by run'],
    results.rows.map((r) => [`<a href="/object/${r.id}">#${r.id}</a>`, esc(r.objectType), esc(r.cn), esc(r.mail), esc(r.sources), runLink(r.createdRun)]),
    'results',
  );
  const deleted = results.deleted.length
    ? `<h2>Deleted objects</h2>${table(
        ['object', 'type', 'last mail', 'deleted'],
        results.deleted.map((d) => [`<a href="/object/${d.id}">#${d.id}</a>`, esc(d.objectType), esc(d.mail), esc(d.deletedAt)]),
        'deleted',
      )}`
    : '';
  return layout('Metaverse search', form + pager(results.paging, results.rows.length) + list + deleted);
}

/** A change's values before and after, one row per attribute. */
function diff(c: ChangeEntry): string {
  if (!c.rows.length) return '';
  return `<table class="diff"><tbody>${c.rows
    .map((r) => `<tr><th>${esc(r.attribute)}</th><td><pre>${esc(r.before)}</pre></td><td><pre>${esc(r.after)}</pre></td></tr>`)
    .join('')}</tbody></table>`;
}

function objectOf(c: ChangeEntry): string {
  if (c.space === 'mv') return `<a href="/object/${c.objectId}">${esc(c.object)} #${c.objectId}</a>`;
  return `${esc(c.dn ?? c.object)}${c.dn && c.dn !== c.object ? ` <span class="muted">${esc(c.object)}</span>` : ''}`;
}

export function changesTable(changes: ChangeEntry[], id = 'changes'): string {
  return table(
    ['when', 'run', 'where', 'object', 'change', 'attribute: before / after'],
    changes.map((c) => [esc(c.at), runLink(c.runId), esc(c.space === 'mv' ? 'metaverse' : c.agent), objectOf(c), esc(c.operation), diff(c)]),
    id,
  );
}

export function objectPage(d: MvDetail): string {
  const state = d.deleted
    ? `<p class="deleted" id="deleted">Deleted ${esc(d.deleted.at)} by run ${runLink(d.deleted.runId)}: ${esc(d.deleted.reason ?? 'no reason recorded')}. Shown as it was last.</p>`
    : '';
  const body = `${state}<p>Created ${esc(d.createdAt || 'before the history kept')} by run ${runLink(d.createdRun)}; last changed ${esc(d.updatedAt)}.</p>
<h2>${d.deleted ? 'Last attributes' : 'Attributes and their sources'}</h2>${table(
    ['attribute', 'values', 'from agent'],
    d.attributes.map((a) => [
      esc(a.attribute),
      d.members.some((m) => m.attribute === a.attribute) ? `${a.values.length} (listed below)` : esc(a.values.join(' | ')),
      esc(a.source),
    ]),
    'attributes',
  )}
${d.members
  .map(
    (m) =>
      `<h2>Members (${esc(m.attribute)}): ${m.resolved.length} resolved</h2>${table(
        ['member', 'object'],
        m.resolved.map((r) => [`<a href="/object/${r.id}">#${r.id}</a>`, esc(r.label)]),
        `members-${m.attribute}`,
      )}`,
  )
  .join('\n')}
${
  d.unresolvedMembers.length
    ? `<h2>Unresolved members: not carried, each reported once</h2>${table(
        ['agent', 'group object', 'attribute', 'member', 'why', 'since'],
        d.unresolvedMembers.map((u) => [esc(u.agent), esc(u.dn), esc(u.attribute), esc(u.member), esc(u.reason), esc(u.foundAt)]),
        'unresolved-members',
      )}`
    : ''
}
<h2>Connectors</h2>${table(
    ['agent', 'DN', 'anchor', 'link', 'run', 'since', 'created by dirbridge'],
    d.connectors.map((c) => [
      esc(c.agent),
      esc(c.dn),
      `<code>${esc(c.anchor)}</code>`,
      esc(c.link),
      runLink(c.linkedRun),
      esc(c.linkedAt),
      c.owned ? 'yes' : 'no',
    ]),
    'connectors',
  )}
${
  d.moves.length
    ? `<h2>Moves</h2>${table(
        ['when', 'run', 'person', 'mailbox', 'now stands for it', 'contacts deleted', 'X500 carried', 'X500 on the mailbox'],
        d.moves.map((m) => [
          esc(m.at),
          runLink(m.runId),
          esc(m.personLabel),
          esc(m.mailboxLabel),
          esc(`${m.docDn} (${m.docAgent})`),
          esc(m.contacts.map((c) => `${c.dn} (${c.agent})`).join('; ') || 'none'),
          esc(m.x500.join(' | ') || 'none'),
          m.x500.length ? (m.x500Written ? 'added by dirbridge' : 'not written by dirbridge: add by hand') : '',
        ]),
        'moves',
      )}`
    : ''
}
<h2>Lineage</h2>${table(
    ['when', 'run', 'agent', 'event', 'DN', 'why'],
    d.lineage.map((l) => [esc(l.at), runLink(l.runId), esc(l.agent), esc(l.event), esc(l.dn), esc(l.detail)]),
    'lineage',
  )}
<h2>History</h2>${changesTable(d.history, 'history')}`;
  return layout(`${d.objectType} #${d.id}${d.deleted ? ' (deleted)' : ''}`, body);
}

/** Changes per run over time, as an inline SVG bar chart (what the exports wrote: adds, updates, deletes stacked). */
export function changesChart(runs: RunSummary[]): string {
  const shown = [...runs].reverse().slice(-60);
  if (!shown.length) return '';
  const max = Math.max(1, ...shown.map((r) => r.adds + r.updates + r.deletes));
  const w = 14;
  const h = 160;
  const bars = shown
    .map((r, i) => {
      let y = h;
      return (['adds', 'updates', 'deletes'] as const)
        .map((k, j) => {
          const height = (r[k] / max) * (h - 10);
          y -= height;
          return height > 0
            ? `<rect x="${i * w + 2}" y="${y.toFixed(1)}" width="${w - 4}" height="${height.toFixed(1)}" fill="${['#2a7', '#37c', '#c44'][j]}"><title>run ${r.id} (${esc(r.profile)}) ${esc(r.startedAt)}: ${r[k]} ${k}</title></rect>`
            : '';
        })
        .join('');
    })
    .join('');
  return `<figure><svg id="changes-chart" role="img" aria-label="changes per run" width="${shown.length * w + 4}" height="${h}" viewBox="0 0 ${shown.length * w + 4} ${h}">${bars}</svg>
<figcaption class="muted">What the exports wrote per run, oldest left: <span style="color:#2a7">adds</span>, <span style="color:#37c">updates</span>, <span style="color:#c44">deletes</span> (most ${max}).</figcaption></figure>`;
}

export function runsPage(runs: RunSummary[], paging: Paging): string {
  const rows = runs.map((r) => [
    `<a href="/runs/${r.id}">${r.id}</a>`,
    esc(r.profile),
    esc(r.status),
    esc(r.startedAt),
    esc(r.seconds ?? ''),
    esc(r.startedBy),
    String(r.imported),
    String(r.metaverseChanges),
    String(r.adds),
    String(r.updates),
    String(r.deletes),
    String(r.errors),
    String(r.warnings),
    esc(r.allowedDeletes ?? ''),
  ]);
  return layout(
    'Runs',
    changesChart(runs) +
      pager(paging, runs.length) +
      table(
        [
          'run',
          'profile',
          'status',
          'started',
          'seconds',
          'started by',
          'imported changes',
          'metaverse changes',
          'exported adds',
          'exported updates',
          'exported deletes',
          'errors',
          'warnings',
          'deletes allowed',
        ],
        rows,
        'runs',
      ) +
      '<p class="muted">Imported: changes the imports found in the directories. Metaverse: objects the syncs created, changed or deleted. Exported: what dirbridge wrote to the directories. A person who leaves counts once in each.</p>',
  );
}

export function runPage(run: RunDetail, changes: { total: number; paging: Paging }): string {
  const origin = run.startedBy
    ? `<p id="started-by">Started by ${esc(describeOrigin(run.startedBy))}, pid ${run.startedBy.pid}: <code>${esc(run.startedBy.command)}</code></p>`
    : '';
  const body = `<p>${esc(run.profile)}: <strong>${esc(run.status)}</strong>, ${esc(run.startedAt)} to ${esc(run.endedAt ?? 'not finished')}.</p>${origin}
<h2>Steps</h2>${table(
    ['#', 'agent', 'step', 'status', 'adds', 'updates', 'renames', 'deletes', 'unchanged', 'errors', 'warnings', 'message'],
    run.steps.map((s) => [
      String(s.seq),
      esc(s.agent),
      esc(s.stepType),
      esc(s.status),
      ...(['adds', 'updates', 'renames', 'deletes', 'unchanged', 'errors', 'warnings'] as const).map((k) => String(s.stats[k] ?? 0)),
      esc(s.message),
    ]),
    'steps',
  )}
<h2>Problems</h2>${table(
    ['severity', 'code', 'object', 'attribute', 'message'],
    run.errors.map((e) => [esc(e.severity), esc(e.code), esc(e.object), esc(e.attribute), esc(e.message)]),
    'problems',
  )}
<h2>Changes</h2>${pager({ ...changes.paging, total: changes.total }, run.changes.length)}${changesTable(run.changes)}`;
  return layout(`Run ${run.id}`, body);
}

export function changesPage(
  q: Record<string, string | undefined>,
  operations: string[],
  agents: string[],
  result: { changes: ChangeEntry[]; paging: Paging } | undefined,
): string {
  const input = (name: string, label: string, placeholder = ''): string =>
    `<label>${label} <input name="${name}" value="${esc(q[name])}" placeholder="${esc(placeholder)}"></label>`;
  const select = (name: string, label: string, options: string[]): string =>
    `<label>${label} <select name="${name}"><option value="">any</option>${options.map((o) => `<option${q[name] === o ? ' selected' : ''}>${esc(o)}</option>`).join('')}</select></label>`;
  const form = `<form method="get" action="/changes" id="change-search">
${input('object', 'Object', 'mail, DN, anchor or #id')}${select('agent', 'Agent', agents)}${input('run', 'Run')}${input('since', 'Since', '2026-12-01 or 7d')}${input('until', 'Until')}${select('operation', 'Change', operations)}
<button type="submit">Search</button></form>`;
  if (!result) return layout('Change log', form);
  return layout('Change log', form + pager(result.paging, result.changes.length) + changesTable(result.changes));
}

export function agentsPage(stats: (AgentStatistics & { type: string; nextRun: { profile: string; at: string } | null })[], url: URL): string {
  return layout(
    'Agents',
    `<p>${downloadLinks(url)}</p>` +
      table(
        [
          'agent',
          'type',
          'objects',
          'connectors',
          'disconnectors',
          'created by dirbridge',
          'pending imports',
          'pending exports (add / modify / rename / delete)',
          'export errors',
          'watermark',
          'last full import',
          'last step',
          'problems in that run',
          'next scheduled run',
        ],
        stats.map((s) => [
          esc(s.agent),
          esc(s.type),
          String(s.objects),
          String(s.connectors),
          String(s.disconnectors),
          String(s.owned),
          String(s.pendingImports),
          `${s.pendingExports.add} / ${s.pendingExports.modify} / ${s.pendingExports.rename} / ${s.pendingExports.delete}`,
          String(s.exportErrors),
          s.watermark ? `${esc(s.watermark.updatedAt)} (${s.watermark.ageMinutes} min ago)` : 'none',
          esc(s.lastFullImport ?? 'never'),
          s.lastStep
            ? `${esc(s.lastStep.stepType)} <strong>${esc(s.lastStep.status)}</strong> in run ${runLink(s.lastStep.runId)} ${esc(s.lastStep.endedAt ?? '')}${s.lastStep.message ? `<br><span class="muted">${esc(s.lastStep.message)}</span>` : ''}`
            : 'never run',
          String(s.lastRunProblems),
          s.nextRun ? `${esc(s.nextRun.at)} (${esc(s.nextRun.profile)})` : 'not scheduled',
        ]),
        'agents',
      ),
  );
}

export interface ReportSections {
  contacts: { rows: ReportContact[]; paging: Paging };
  conflicts: { rows: ConflictLine[]; paging: Paging };
  orphans: { rows: ReportOrphan[]; paging: Paging };
  uncovered: { rows: ReportUncovered[]; paging: Paging };
}

export function reportPage(
  generatedAt: string,
  counts: { provisioned: number; joined: number; conflicts: number; orphans: number; uncovered: number },
  s: Partial<ReportSections>,
): string {
  const parts = [
    `<p id="generated">Generated ${esc(generatedAt)}. ${counts.provisioned} contacts created by dirbridge (it may delete them), ${counts.joined} joined (existing ones it keeps up to date and never deletes); ${counts.conflicts} address conflicts; ${counts.orphans} contacts whose person is gone; ${counts.uncovered} people with no contact.</p>`,
  ];
  if (s.contacts)
    parts.push(
      `<h2>Contacts and the people they stand for</h2>${pager({ ...s.contacts.paging, total: counts.provisioned + counts.joined }, s.contacts.rows.length, false)}<p>${downloadLinks(s.contacts.paging.url, { section: 'contacts' })}</p>${table(
        ['agent', 'contact', 'mail', 'origin', 'person', 'source', 'created by run'],
        s.contacts.rows.map((c) => [
          esc(c.agent),
          `<a href="/object/${c.mvId}">${esc(c.contact)}</a>`,
          esc(c.mail),
          esc(c.origin),
          `${esc(c.personType)} ${esc(c.person)}`,
          esc(c.personSource),
          runLink(c.createdRun),
        ]),
        'contacts',
      )}`,
    );
  if (s.conflicts)
    parts.push(
      `<h2>Address conflicts</h2><p>${downloadLinks(s.conflicts.paging.url, { section: 'conflicts' })}</p>${table(
        ['object', 'no contact in', 'mail', 'also held by', 'found by run'],
        s.conflicts.rows.map((c) => [
          `<a href="/object/${c.mvId}">${esc(c.objectType)} ${esc(c.source)}</a>`,
          esc(c.agent),
          esc(c.mail),
          esc(c.others),
          runLink(c.runId),
        ]),
        'conflicts',
      )}`,
    );
  if (s.orphans)
    parts.push(
      `<h2>Contacts whose person is gone</h2>${pager({ ...s.orphans.paging, total: counts.orphans }, s.orphans.rows.length, false)}<p>${downloadLinks(s.orphans.paging.url, { section: 'orphans' })}</p>${table(
        ['agent', 'contact', 'why'],
        s.orphans.rows.map((o) => [esc(o.agent), esc(o.contact), esc(o.why)]),
        'orphans',
      )}`,
    );
  if (s.uncovered)
    parts.push(
      `<h2>People with no contact</h2>${pager({ ...s.uncovered.paging, total: counts.uncovered }, s.uncovered.rows.length, false)}<p>${downloadLinks(s.uncovered.paging.url, { section: 'uncovered' })}</p>${table(
        ['object', 'person', 'source', 'mail', 'why'],
        s.uncovered.rows.map((u) => [
          `<a href="/object/${u.mvId}">${esc(u.objectType)} #${u.mvId}</a>`,
          esc(u.person),
          esc(u.personSource),
          esc(u.mail),
          esc(u.why),
        ]),
        'uncovered',
      )}`,
    );
  return layout('Report', parts.join('\n'));
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<p>${esc(message)}</p>`);
}
