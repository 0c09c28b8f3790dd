/**
 * `dirbridge agents [NAME]`: each agent as MIM's Connectors tab shows it: objects, connectors and
 * disconnectors, what waits to be imported and exported, export errors, the watermark's age, the last
 * step and the next scheduled run. Read-only.
 */
import type { Command } from 'commander';
import { nextScheduledRuns } from '../../engine/scheduler.js';
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
      const next = nextScheduledRuns(loaded);
      const stats = new Inspector(store)
        .agentStatistics(name ? [name] : Object.keys(loaded.config.agents))
        .map((s) => ({ ...s, type: loaded.config.agents[s.agent]!.type, nextRun: next.get(s.agent) ?? null }));
      if (o.json) return out(JSON.stringify(stats, null, 2));
      const flat = stats.map((s) => ({
        agent: s.agent,
        type: s.type,
        objects: s.objects,
        connectors: s.connectors,
        disconnectors: s.disconnectors,
        owned: s.owned,
        pendingImports: s.pendingImports,
        pendingAdds: s.pendingExports.add,
        pendingModifies: s.pendingExports.modify,
        pendingRenames: s.pendingExports.rename,
        pendingDeletes: s.pendingExports.delete,
        exportErrors: s.exportErrors,
        watermarkAgeMinutes: s.watermark?.ageMinutes ?? '',
        lastFullImport: s.lastFullImport ?? '',
        lastStep: s.lastStep ? `${s.lastStep.stepType} ${s.lastStep.status} (run ${s.lastStep.runId})` : '',
        lastStepEnded: s.lastStep?.endedAt ?? '',
        lastRunProblems: s.lastRunProblems,
        nextRun: s.nextRun ? `${s.nextRun.at} (${s.nextRun.profile})` : '',
      }));
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
