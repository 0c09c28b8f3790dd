/**
 * The read-only commands of operators and auditors: mv search/show, cs search/show, history (and
 * history show), report. Tables on a terminal, --json or --csv for scripts; none of them writes.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { type ChangeEntry, type CsFilter, Inspector, searchConditions } from '../../metaverse/inspect.js';
import type { Store } from '../../metaverse/store.js';
import { toCsv } from '../csv.js';
import { table } from '../table.js';

export type WithStore = <T>(fn: (store: Store, loaded: LoadedConfig) => T) => T;

interface Format {
  json?: boolean;
  csv?: boolean;
}

const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const compact = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));

function emit<T extends object>(f: Format, rows: T[], columns: (keyof T & string)[], empty: string): void {
  if (f.json) return out(JSON.stringify(rows, null, 2));
  if (f.csv) return void process.stdout.write(toCsv(columns, rows));
  if (!rows.length) return out(empty);
  out(
    table(
      columns,
      rows.map((r) =>
        columns.map((c) => {
          const v = (r as Record<string, unknown>)[c];
          return typeof v === 'number' ? v : v === null || v === undefined ? '' : String(v);
        }),
      ),
    ),
  );
}

function historyLines(h: ChangeEntry[]): string[] {
  return h.map(
    (c) =>
      `  ${c.at}  run ${c.runId ?? '-'}  ${c.space === 'cs' ? `${c.agent} ` : ''}${c.operation} ${c.object}${c.before !== undefined || c.after !== undefined ? `\n      before ${compact(c.before) || '(none)'}\n      after  ${compact(c.after) || '(none)'}` : ''}`,
  );
}

export function registerInspection(program: Command, withStore: WithStore, usage: (message: string) => Error): void {
  const mv = program.command('mv').description('the metaverse: search objects, show one with its sources, connectors, lineage and history (read-only)');
  mv.command('search')
    .description('metaverse objects by type and attribute; patterns are case-insensitive, * matches anything')
    .option('--type <type>', 'object type (e.g. DominoUser, ExchangeUser)')
    .option('--mail <pattern>', 'mail')
    .option('--name <pattern>', 'cn')
    .option('--where <attr=pattern...>', 'any attribute (repeatable)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((o: Format & { type?: string; mail?: string; name?: string; where?: string[]; limit: string }) => {
      const { conditions, invalid } = searchConditions(o);
      if (invalid.length) throw usage(`--where takes attribute=pattern, not "${invalid[0]}"`);
      withStore((store) =>
        emit(
          o,
          new Inspector(store).searchMv({ ...(o.type ? { type: o.type } : {}), conditions, limit: Number(o.limit) || 100 }),
          ['id', 'objectType', 'cn', 'mail', 'sources', 'createdRun', 'updatedAt'],
          'no metaverse object matches',
        ),
      );
    });
  mv.command('show')
    .description('one metaverse object: "#12", a mail address, an anchor or a DN of any of its connectors')
    .argument('<object>')
    .option('--json', 'as JSON')
    .action((query: string, o: Format) =>
      withStore((store) => {
        const inspector = new Inspector(store);
        const details = inspector.resolveMv(query).map((id) => inspector.mvDetail(id)!);
        if (!details.length) throw usage(`no metaverse object matches "${query}" (by #id, mail, anchor or DN)`);
        if (o.json) return out(JSON.stringify(details.length === 1 ? details[0] : details, null, 2));
        for (const d of details) {
          out(`${d.objectType} #${d.id}: created ${d.createdAt} by run ${d.createdRun ?? '-'}, last changed ${d.updatedAt}\n`);
          out(
            table(
              ['attribute', 'values', 'from agent'],
              d.attributes.map((a) => [a.attribute, a.values.join(' | '), a.source]),
            ),
          );
          out('\nconnectors:');
          out(
            table(
              ['agent', 'dn', 'anchor', 'link', 'run', 'since', 'owned'],
              d.connectors.map((c) => [c.agent, c.dn, c.anchor ?? '', c.link ?? '', c.linkedRun ?? '', c.linkedAt ?? '', c.owned ? 'yes' : 'no']),
            ),
          );
          out('\nlineage:');
          out(
            table(
              ['at', 'run', 'agent', 'event', 'dn', 'detail'],
              d.lineage.map((l) => [l.at, l.runId ?? '', l.agent, l.event, l.dn, l.detail ?? '']),
            ),
          );
          out('\nhistory:');
          out(historyLines(d.history).join('\n') || '  (none)');
          out('');
        }
      }),
    );

  const cs = program.command('cs').description("an agent's connector space: search by state, show one object (read-only)");
  const filters: CsFilter[] = ['pending-import', 'pending-export', 'disconnectors', 'errors'];
  const csSearch = cs.command('search').description('connector-space objects of an agent').argument('<agent>');
  for (const f of filters)
    csSearch.option(
      `--${f}`,
      {
        'pending-import': 'imported changes not yet synchronized',
        'pending-export': 'changes waiting to be exported',
        disconnectors: 'objects linked to no metaverse object',
        errors: 'exports the directory refused',
      }[f],
    );
  csSearch
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((agent: string, o: Format & Record<string, unknown> & { limit: string }) =>
      withStore((store, loaded) => {
        if (!loaded.config.agents[agent]) throw usage(`no agent named "${agent}"; agents are: ${Object.keys(loaded.config.agents).join(', ')}`);
        const chosen = filters.filter((f) => o[f.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())]);
        if (chosen.length > 1) throw usage(`give one of ${filters.map((f) => `--${f}`).join(', ')}`);
        emit(
          o,
          new Inspector(store).searchCs(agent, chosen[0], Number(o.limit) || 100),
          ['id', 'dn', 'anchor', 'pendingImport', 'pendingExport', 'lastError', 'mvId', 'link'],
          'no object matches',
        );
      }),
    );
  cs.command('show')
    .description('one connector-space object by anchor or DN')
    .argument('<agent>')
    .argument('<object>')
    .option('--json', 'as JSON')
    .action((agent: string, query: string, o: Format) =>
      withStore((store) => {
        const inspector = new Inspector(store);
        const found = inspector.resolveCs(agent, query);
        if (!found.length) throw usage(`no object "${query}" in the connector space of ${agent} (by anchor or DN)`);
        const details = found.map((c) => inspector.csDetail(c));
        if (o.json) return out(JSON.stringify(details.length === 1 ? details[0] : details, null, 2));
        for (const d of details) {
          out(
            `${d.agent}: ${d.dn}\n  anchor ${d.anchor ?? '(none yet)'}; ${d.owned ? 'created by dirbridge' : 'not created by dirbridge'}; pending import: ${d.pendingImport ?? 'none'}`,
          );
          out(
            d.metaverse
              ? `  linked to ${d.metaverse.objectType} #${d.metaverse.id} (${d.metaverse.link}, run ${d.metaverse.linkedRun ?? '-'}, ${d.metaverse.linkedAt ?? ''})`
              : '  linked to nothing (a disconnector)',
          );
          if (d.pendingExport) out(`  pending export: ${JSON.stringify(d.pendingExport)}`);
          out('');
          out(
            table(
              ['attribute', 'values'],
              Object.entries(d.attributes).map(([k, v]) => [k, v.join(' | ')]),
            ),
          );
          out('\nlineage:');
          out(
            table(
              ['at', 'run', 'event', 'detail'],
              d.lineage.map((l) => [l.at, l.runId ?? '', l.event, l.detail ?? '']),
            ),
          );
          out('\nhistory:');
          out(historyLines(d.history).join('\n') || '  (none)');
          out('');
        }
      }),
    );

  const history = program
    .command('history')
    .description('the runs: profile, status, counts, duration (newest first); "history show RUN" for one run')
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((o: Format & { limit: string }) =>
      withStore((store) =>
        emit(
          o,
          new Inspector(store).runs(Number(o.limit) || 20),
          ['id', 'profile', 'status', 'startedAt', 'seconds', 'steps', 'adds', 'updates', 'deletes', 'errors', 'warnings', 'allowedDeletes'],
          'no runs yet',
        ),
      ),
    );
  history
    .command('show')
    .description('one run: its steps with statistics, every error, every change with values before and after')
    .argument('<run>')
    .option('--json', 'as JSON')
    .action((id: string, _o: Format, cmd: Command) =>
      withStore((store) => {
        // --json may land on "history" itself, which has the same option.
        const o = cmd.optsWithGlobals<Format>();
        const detail = /^\d+$/.test(id) ? new Inspector(store).run(Number(id)) : undefined;
        if (!detail) throw usage(`no run ${id} in the history (dirbridge history lists them)`);
        if (o.json) return out(JSON.stringify(detail, null, 2));
        const { steps, errors, changes, ...run } = detail;
        out(`run ${run.id} (${run.profile}): ${run.status}, ${run.startedAt} to ${run.endedAt ?? '(not finished)'}\n`);
        out(
          table(
            ['#', 'agent', 'step', 'status', 'adds', 'updates', 'renames', 'deletes', 'unchanged', 'errors', 'warnings', 'message'],
            steps.map((s) => [
              s.seq,
              s.agent,
              s.stepType,
              s.status,
              s.stats.adds ?? 0,
              s.stats.updates ?? 0,
              s.stats.renames ?? 0,
              s.stats.deletes ?? 0,
              s.stats.unchanged ?? 0,
              s.stats.errors ?? 0,
              s.stats.warnings ?? 0,
              s.message ?? '',
            ]),
          ),
        );
        out(`\nproblems (${errors.length}):`);
        out(errors.map((e) => `  ${e.severity} ${e.code}: ${e.object}${e.attribute ? ` [${e.attribute}]` : ''}: ${e.message}`).join('\n') || '  (none)');
        out(`\nchanges (${changes.length}):`);
        out(
          changes
            .map(
              (c) =>
                `  ${c.space === 'cs' ? `${c.agent} ` : ''}${c.operation} ${c.objectRef}: ${compact(c.before) || '(none)'} -> ${compact(c.after) || '(none)'}`,
            )
            .join('\n') || '  (none)',
        );
      }),
    );

  program
    .command('report')
    .description('for auditors: every contact with the person it stands for, address conflicts, contacts whose person is gone, owned vs joined')
    .option('--section <name>', 'only contacts, conflicts or orphans (with --csv, one section is required)')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((o: Format & { section?: string }) =>
      withStore((store) => {
        const inspector = new Inspector(store);
        const sections = {
          contacts: () => inspector.reportContacts(),
          conflicts: () => new Inspector(store).conflicts(),
          orphans: () => inspector.reportOrphans(),
        };
        if (o.section && !(o.section in sections)) throw usage(`--section is one of ${Object.keys(sections).join(', ')}`);
        const contacts = sections.contacts();
        if (o.csv) {
          if (!o.section) throw usage('--csv writes one section: add --section contacts, conflicts or orphans');
          const rows = sections[o.section as keyof typeof sections]();
          return void process.stdout.write(toCsv(Object.keys(rows[0] ?? { empty: '' }) as never, rows as never));
        }
        const summary = {
          provisioned: contacts.filter((c) => c.origin === 'provisioned').length,
          joined: contacts.filter((c) => c.origin === 'joined').length,
        };
        if (o.json) {
          const all = { summary, contacts, conflicts: sections.conflicts(), orphans: sections.orphans() };
          return out(JSON.stringify(o.section ? all[o.section as keyof typeof sections] : all, null, 2));
        }
        if (!o.section || o.section === 'contacts') {
          out(
            `contacts: ${summary.provisioned} created by dirbridge (it may delete them), ${summary.joined} joined (existing ones it keeps up to date and never deletes)\n`,
          );
          emit({}, contacts, ['agent', 'contact', 'mail', 'origin', 'personType', 'person', 'personSource', 'createdRun'], 'no contacts');
        }
        if (!o.section || o.section === 'conflicts') {
          out('\naddress conflicts (no contact while the address is shared):');
          emit({}, sections.conflicts(), ['objectType', 'source', 'agent', 'mail', 'others', 'runId'], '  none');
        }
        if (!o.section || o.section === 'orphans') {
          out('\ncontacts whose person is gone (created by dirbridge, linked to nothing):');
          emit({}, sections.orphans(), ['agent', 'contact', 'why'], '  none');
        }
      }),
    );
}
