/** `dirbridge unresolved`: group members dirbridge could not resolve, and why. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { Inspector } from '../../metaverse/inspect.js';
import { toCsv } from '../../util/csv.js';
import { openReadOnly } from '../shared.js';
import { table } from '../table.js';

export function registerUnresolved(program: Command, config: () => LoadedConfig): void {
  program
    .command('unresolved')
    .description(
      'group members that could not be resolved (a free-text member, one out of scope, one with no object on the other side), each reported once when found (read-only)',
    )
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((opts: { json?: boolean; csv?: boolean }) => {
      const store = openReadOnly(config(), 'nothing is unresolved');
      try {
        const lines = new Inspector(store).unresolved();
        if (opts.json) process.stdout.write(JSON.stringify(lines, null, 2) + '\n');
        else if (opts.csv) process.stdout.write(toCsv(['group', 'agent', 'mvId', 'attribute', 'member', 'reason', 'runId', 'foundAt'], lines));
        else if (!lines.length) process.stdout.write('no unresolved group members\n');
        else
          process.stdout.write(
            table(
              ['group', 'agent', 'member', 'why', 'found (run)'],
              lines.map((l) => [l.group, l.agent, l.member, l.reason, `${l.foundAt} (${l.runId ?? '-'})`]),
            ) + '\n',
          );
      } finally {
        store.close();
      }
    });
}
