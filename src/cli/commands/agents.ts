/**
 * `dirbridge agents [NAME]`: each agent as MIM's Connectors tab shows it: objects, connectors and
 * disconnectors, what waits to be imported and exported, export errors, the watermark's age, the last
 * step and the next scheduled run. Read-only.
 */
import type { Command } from 'commander';
import { agentRow, agentView } from '../../engine/agent-view.js';
import { Inspector } from '../../metaverse/inspect.js';
import { type Format, formatOptions, out } from '../output.js';
import { requireAgent, type withStoreOf } from '../shared.js';
import { toCsv } from '../../util/csv.js';
import { table } from '../table.js';

export function registerAgents(program: Command, withStore: ReturnType<typeof withStoreOf>): void {
  formatOptions(
    program
      .command('agents')
      .description(
        'per agent: objects, connectors, disconnectors, pending imports and exports by kind, export errors, watermark age, last step, next scheduled run',
      )
      .argument('[agent]', 'only this agent'),
  ).action((name: string | undefined, o: Format) =>
    withStore((store, loaded) => {
      if (name) requireAgent(loaded, name);
      const stats = agentView(loaded, new Inspector(store), name ? [name] : undefined);
      if (o.json) return out(JSON.stringify(stats, null, 2));
      const flat = stats.map(agentRow);
      if (o.csv || o.excel) return void process.stdout.write(toCsv(Object.keys(flat[0] ?? { agent: '' }) as never, flat as never, { excel: o.excel === true }));
      out(
        table(
          ['agent', 'type', 'objects', 'connectors', 'disconn.', 'owned', 'pend. import', 'pend. add/mod/ren/del', 'export errors', 'watermark age'],
          stats.map((s) => [
            s.agent,
            s.type,
            s.objects,
            s.connectors,
            s.disconnectors,
            s.owned,
            s.pendingImports,
            `${s.pendingExports.add}/${s.pendingExports.modify}/${s.pendingExports.rename}/${s.pendingExports.delete}`,
            s.exportErrors,
            s.watermark ? `${s.watermark.ageMinutes} min` : 'none',
          ]),
        ),
      );
      out('');
      out(
        table(
          ['agent', 'last step', 'ended', 'problems of that run', 'next scheduled run'],
          stats.map((s) => [
            s.agent,
            s.lastStep ? `${s.lastStep.stepType} ${s.lastStep.status} (run ${s.lastStep.runId})` : 'never run',
            s.lastStep?.endedAt ?? '',
            s.lastRunProblems,
            s.nextRun ? `${s.nextRun.at} (${s.nextRun.profile})` : 'not scheduled',
          ]),
        ),
      );
      for (const s of stats) if (s.lastStep?.message) out(`\n${s.agent}: ${s.lastStep.message}`);
    }),
  );
}
