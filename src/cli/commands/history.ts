/**
 * `dirbridge history` (the runs), `history show RUN` (one run, whole) and `dirbridge changes` (the
 * change log searched by object, agent, run, time and operation). Read-only.
 */
import type { Command } from 'commander';
import { describeOrigin, Inspector, RUN_SUMMARY_COLUMNS } from '../../metaverse/inspect.js';
import { changeText } from '../history-text.js';
import { announceCut, emit, type Format, formatOptions, out } from '../output.js';
import { NotFoundError, parseLimit, parseRunId, parseTimeOption, parseWhole, requireAgent, type withStoreOf } from '../shared.js';
import { table } from '../table.js';

export function registerHistory(program: Command, withStore: ReturnType<typeof withStoreOf>): void {
  const history = formatOptions(
    program
      .command('history')
      .description(
        'the runs, newest first: profile, status, who started it, changes imported, metaverse changes, and what the exports wrote (adds, updates, deletes); "history show RUN" for one run',
      )
      .option('--limit <n>', 'at most this many runs', '20')
      .option('--offset <n>', 'skip this many of the newest first', '0'),
  ).action((o: Format & { limit: string; offset: string }) =>
    withStore((store) => {
      const limit = parseLimit(o.limit);
      const offset = parseWhole('--offset', o.offset, 'a number of runs');
      const inspector = new Inspector(store);
      const total = inspector.countRuns();
      emit(o, inspector.runs(limit, offset), [...RUN_SUMMARY_COLUMNS], 'no runs yet', {
        more: offset + limit < total,
        shown: limit,
        hint: `${total} runs in all; --limit or --offset to see others`,
      });
    }),
  );
  history
    .command('show')
    .description('one run: who started it, its steps with statistics, every problem, every change attribute by attribute, before and after')
    .argument('<run>')
    .option('--json', 'as JSON')
    .action((id: string, _o: Format, cmd: Command) =>
      withStore((store) => {
        // --json may land on "history" itself, which has the same option.
        const o = cmd.optsWithGlobals<Format>();
        const detail = new Inspector(store).run(parseRunId(id));
        if (!detail) throw new NotFoundError(`no run ${id} in the history (dirbridge history lists them)`);
        if (o.json) return out(JSON.stringify(detail, null, 2));
        const { steps, errors, changes, ...run } = detail;
        out(`run ${run.id} (${run.profile}): ${run.status}, ${run.startedAt} to ${run.endedAt ?? '(not finished)'}`);
        if (run.startedBy) out(`started by ${describeOrigin(run.startedBy)}, pid ${run.startedBy.pid}: ${run.startedBy.command}`);
        if (run.allowedDeletes !== null) out(`deletions allowed past the guards: ${run.allowedDeletes}`);
        out('');
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
        out(changeText(changes));
      }),
    );

  formatOptions(
    program
      .command('changes')
      .description('the change log searched: by object (also a deleted one), agent, run, time range and operation; oldest first, attribute by attribute')
      .option('--object <q>', 'a metaverse object (#id, mail, anchor, DN) or a connector-space object (anchor, DN)')
      .option('--agent <name>', "only this agent's connector-space changes")
      .option('--run <n>', 'only this run')
      .option('--since <time>', 'from this time: 2026-12-01, 2026-12-01T08:00Z, or 30m, 12h, 7d ago')
      .option('--until <time>', 'up to this time (same forms)')
      .option('--operation <op>', 'only this operation (mv-add, mv-update, mv-delete, export-add, import-delete, ...)')
      .option('--limit <n>', 'at most this many changes', '200')
      .option('--offset <n>', 'skip this many', '0'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  dirbridge changes --object jane.doe@acme.com\n  dirbridge changes --agent ad-contacts --since 7d --operation export-delete --csv\n  dirbridge changes --run 42 --json',
    )
    .action(
      (o: Format & { object?: string; agent?: string; run?: string; since?: string; until?: string; operation?: string; limit: string; offset: string }) =>
        withStore((store, loaded) => {
          const limit = parseLimit(o.limit);
          const offset = parseWhole('--offset', o.offset, 'a number of changes');
          if (o.agent) requireAgent(loaded, o.agent);
          const inspector = new Inspector(store);
          const { entries, more } = inspector.searchChanges({
            ...(o.object !== undefined ? { object: o.object } : {}),
            ...(o.agent !== undefined ? { agent: o.agent } : {}),
            ...(o.run !== undefined ? { runId: parseRunId(o.run) } : {}),
            ...(o.since !== undefined ? { since: parseTimeOption('--since', o.since) } : {}),
            ...(o.until !== undefined ? { until: parseTimeOption('--until', o.until) } : {}),
            ...(o.operation !== undefined ? { operation: o.operation } : {}),
            limit,
            offset,
          });
          const cut = { more, shown: limit, hint: `--offset ${offset + limit} for the next ones` };
          if (o.json) {
            out(JSON.stringify(entries, null, 2));
            return announceCut(cut);
          }
          if (o.csv || o.excel) {
            // One line per attribute changed: what a spreadsheet filters on.
            const rows = entries.flatMap((c) =>
              (c.rows.length ? c.rows : [{ attribute: '', before: '', after: '' }]).map((r) => ({
                change: c.id,
                at: c.at,
                run: c.runId ?? '',
                where: c.space === 'mv' ? 'metaverse' : c.agent,
                object: c.space === 'mv' ? `${c.object} #${c.objectId}` : (c.dn ?? c.object),
                operation: c.operation,
                ...r,
              })),
            );
            return emit(o, rows, ['change', 'at', 'run', 'where', 'object', 'operation', 'attribute', 'before', 'after'], '', cut);
          }
          out(entries.length ? changeText(entries) : 'no change matches');
          announceCut(cut);
        }),
    );
}
