/**
 * The HTML of the auditors' web view: plain server-rendered pages, no script. Every value from the
 * store goes through esc(), so a name with markup in it is shown, never run.
 */
import type { ChangeEntry, ConflictLine, MvDetail, MvSummary, ReportContact, ReportOrphan, RunSummary } from '../metaverse/inspect.js';
import type { StepStats } from '../model/objects.js';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const json = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v));

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - dirbridge</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}nav a{margin-right:1rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}th{background:#f3f3f3}
code,pre{font-size:.85rem}pre{white-space:pre-wrap;margin:0}.muted{color:#777}form label{margin-right:.75rem}
</style></head>
<body><nav><a href="/">Search</a><a href="/runs">Runs</a><a href="/report">Report</a><span class="muted">dirbridge, read-only</span></nav>
<h1>${esc(title)}</h1>
${body}
</body></html>`;
}

export function table(headers: string[], rows: string[][], id?: string): string {
  if (!rows.length) return '<p class="muted">none</p>';
  return `<table${id ? ` id="${id}"` : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function searchPage(q: { type?: string; mail?: string; name?: string; where?: string }, types: string[], results: MvSummary[] | undefined): string {
  const form = `<form method="get" action="/" id="search">
<label>Type <select name="type"><option value="">any</option>${types.map((t) => `<option${q.type === t ? ' selected' : ''}>${esc(t)}</option>`).join('')}</select></label>
<label>Mail <input name="mail" value="${esc(q.mail)}" placeholder="jane*@acme.com"></label>
<label>Name <input name="name" value="${esc(q.name)}"></label>
<label>Attribute <input name="where" value="${esc(q.where)}" placeholder="title=engineer*"></label>
<button type="submit">Search</button></form><p class="muted">Case-insensitive; * matches anything.</p>`;
  const list =
    results === undefined
      ? ''
      : table(
          ['object', 'type', 'name', 'mail', 'sources', 'created by run'],
          results.map((r) => [
            `<a href="/object/${r.id}">#${r.id}</a>`,
            esc(r.objectType),
            esc(r.cn),
            esc(r.mail),
            esc(r.sources),
            r.createdRun === null ? '' : `<a href="/runs/${r.createdRun}">${r.createdRun}</a>`,
          ]),
          'results',
        );
  return layout('Metaverse search', form + list);
}

function history(h: ChangeEntry[]): string {
  return table(
    ['when', 'run', 'where', 'change', 'before', 'after'],
    h.map((c) => [
      esc(c.at),
      c.runId === null ? '' : `<a href="/runs/${c.runId}">${c.runId}</a>`,
      esc(c.space === 'mv' ? 'metaverse' : c.agent),
      esc(c.operation),
      `<pre>${esc(json(c.before))}</pre>`,
      `<pre>${esc(json(c.after))}</pre>`,
    ]),
    'history',
  );
}

export function objectPage(d: MvDetail): string {
  const runLink = (r: number | null): string => (r === null ? '' : `<a href="/runs/${r}">${r}</a>`);
  const body = `<p>Created ${esc(d.createdAt)} by run ${runLink(d.createdRun)}; last changed ${esc(d.updatedAt)}.</p>
<h2>Attributes and their sources</h2>${table(
    ['attribute', 'values', 'from agent'],
    d.attributes.map((a) => [esc(a.attribute), esc(a.values.join(' | ')), esc(a.source)]),
    'attributes',
  )}
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
<h2>Lineage</h2>${table(
    ['when', 'run', 'agent', 'event', 'DN', 'why'],
    d.lineage.map((l) => [esc(l.at), runLink(l.runId), esc(l.agent), esc(l.event), esc(l.dn), esc(l.detail)]),
    'lineage',
  )}
<h2>History</h2>${history(d.history)}`;
  return layout(`${d.objectType} #${d.id}`, body);
}

/** Changes per run over time, as an inline SVG bar chart (adds, updates, deletes stacked). */
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
<figcaption class="muted">Changes per run, oldest left: <span style="color:#2a7">adds</span>, <span style="color:#37c">updates</span>, <span style="color:#c44">deletes</span> (most ${max}).</figcaption></figure>`;
}

export function runsPage(runs: RunSummary[]): string {
  const rows = runs.map((r) => [
    `<a href="/runs/${r.id}">${r.id}</a>`,
    esc(r.profile),
    esc(r.status),
    esc(r.startedAt),
    esc(r.seconds ?? ''),
    String(r.steps),
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
      table(['run', 'profile', 'status', 'started', 'seconds', 'steps', 'adds', 'updates', 'deletes', 'errors', 'warnings', 'deletes allowed'], rows, 'runs'),
  );
}

export function runPage(
  run: { id: number; profile: string; status: string; startedAt: string; endedAt: string | null },
  steps: { seq: number; agent: string; stepType: string; status: string; stats: StepStats; message: string | null }[],
  errors: { severity: string; code: string; object: string; attribute?: string; message: string }[],
  changes: { space: string; agent: string | null; objectRef: string; operation: string; before: unknown; after: unknown }[],
): string {
  const body = `<p>${esc(run.profile)}: <strong>${esc(run.status)}</strong>, ${esc(run.startedAt)} to ${esc(run.endedAt ?? 'not finished')}.</p>
<h2>Steps</h2>${table(
    ['#', 'agent', 'step', 'status', 'adds', 'updates', 'renames', 'deletes', 'unchanged', 'errors', 'warnings', 'message'],
    steps.map((s) => [
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
    errors.map((e) => [esc(e.severity), esc(e.code), esc(e.object), esc(e.attribute), esc(e.message)]),
    'problems',
  )}
<h2>Changes</h2>${table(
    ['where', 'object', 'change', 'before', 'after'],
    changes.map((c) => [
      esc(c.space === 'mv' ? 'metaverse' : c.agent),
      esc(c.objectRef),
      esc(c.operation),
      `<pre>${esc(json(c.before))}</pre>`,
      `<pre>${esc(json(c.after))}</pre>`,
    ]),
    'changes',
  )}`;
  return layout(`Run ${run.id}`, body);
}

export function reportPage(
  contacts: ReportContact[],
  conflicts: ConflictLine[],
  orphans: ReportOrphan[],
  objectOf: (dn: string, agent: string) => number | undefined,
): string {
  const provisioned = contacts.filter((c) => c.origin === 'provisioned').length;
  const body = `<p>${provisioned} contacts created by dirbridge (it may delete them), ${contacts.length - provisioned} joined (existing ones it keeps up to date and never deletes).</p>
<h2>Contacts and the people they stand for</h2>${table(
    ['agent', 'contact', 'mail', 'origin', 'person', 'source', 'created by run'],
    contacts.map((c) => {
      const id = objectOf(c.contact, c.agent);
      return [
        esc(c.agent),
        id === undefined ? esc(c.contact) : `<a href="/object/${id}">${esc(c.contact)}</a>`,
        esc(c.mail),
        esc(c.origin),
        `${esc(c.personType)} ${esc(c.person)}`,
        esc(c.personSource),
        c.createdRun === null ? '' : `<a href="/runs/${c.createdRun}">${c.createdRun}</a>`,
      ];
    }),
    'contacts',
  )}
<h2>Address conflicts</h2>${table(
    ['object', 'no contact in', 'mail', 'also held by', 'found by run'],
    conflicts.map((c) => [`<a href="/object/${c.mvId}">${esc(c.objectType)} ${esc(c.source)}</a>`, esc(c.agent), esc(c.mail), esc(c.others), esc(c.runId)]),
    'conflicts',
  )}
<h2>Contacts whose person is gone</h2>${table(
    ['agent', 'contact', 'why'],
    orphans.map((o) => [esc(o.agent), esc(o.contact), esc(o.why)]),
    'orphans',
  )}`;
  return layout('Report', body);
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<p>${esc(message)}</p>`);
}
