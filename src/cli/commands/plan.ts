/** `dirbridge plan [PROFILE]`: every pending export, values before and after; read-only. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { agentsExportedBy } from '../../engine/profiles.js';
import { toCsv } from '../../util/csv.js';
import { PLAN_COLUMNS, planLines, planSummary } from '../plan.js';
import { Inspector } from '../../metaverse/inspect.js';
import { openReadOnly, requireAgent } from '../shared.js';
import { table } from '../table.js';

export function registerPlan(program: Command, config: () => LoadedConfig): void {
  program
    .command('plan')
    .description('every pending export (add, modify with values before and after, rename, delete), read-only')
    .argument('[profile]', 'only the agents this run profile exports to')
    .option('--agent <name>', 'only this agent')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV, one line per attribute change')
    .addHelpText('after', '\nExamples:\n  dirbridge plan\n  dirbridge plan delta-cycle --csv > pending.csv\n  dirbridge plan --agent ad-contacts --json')
    .action((profileName: string | undefined, opts: { agent?: string; json?: boolean; csv?: boolean }) => {
      const loaded = config();
      let agents = profileName ? agentsExportedBy(loaded, profileName) : Object.keys(loaded.config.agents);
      if (opts.agent) {
        requireAgent(loaded, opts.agent);
        agents = agents.filter((a) => a === opts.agent);
      }
      const store = openReadOnly(loaded, 'nothing is pending');
      try {
        const pending = new Inspector(store).pendingExports(agents);
        if (opts.json) process.stdout.write(JSON.stringify({ summary: planSummary(pending), exports: pending }, null, 2) + '\n');
        else if (opts.csv) process.stdout.write(toCsv(PLAN_COLUMNS, planLines(pending)));
        else {
          const summary = planSummary(pending);
          const out = [
            summary.length
              ? table(
                  ['agent', 'adds', 'modifies', 'renames', 'deletes'],
                  summary.map((s) => [s.agent, s.adds, s.modifies, s.renames, s.deletes]),
                )
              : 'nothing pending',
          ];
          const lines = planLines(pending);
          if (lines.length)
            out.push(
              '',
              table(
                ['agent', 'operation', 'dn', 'new dn / attribute', 'before', 'after'],
                lines.map((l) => [l.agent, l.operation, l.dn, l.newDn || l.attribute, l.before, l.after]),
              ),
            );
          process.stdout.write(out.join('\n') + '\n');
        }
      } finally {
        store.close();
      }
    });
}
