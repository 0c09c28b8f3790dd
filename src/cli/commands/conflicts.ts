/** `dirbridge conflicts`: people who get no contact because another object has their address. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { Inspector } from '../../metaverse/inspect.js';
import { toCsv } from '../../util/csv.js';
import { openReadOnly } from '../shared.js';
import { table } from '../table.js';

export function registerConflicts(program: Command, config: () => LoadedConfig): void {
  program
    .command('conflicts')
    .description('open address conflicts: people who get no contact because an object of the other kind has their address (read-only)')
    .option('--json', 'as JSON')
    .option('--csv', 'as CSV')
    .action((opts: { json?: boolean; csv?: boolean }) => {
      const store = openReadOnly(config(), 'there are no conflicts');
      try {
        const lines = new Inspector(store).conflicts();
        if (opts.json) process.stdout.write(JSON.stringify(lines, null, 2) + '\n');
        else if (opts.csv) process.stdout.write(toCsv(['mvId', 'objectType', 'source', 'agent', 'mail', 'others', 'runId', 'foundAt'], lines));
        else if (!lines.length) process.stdout.write('no open address conflicts\n');
        else
          process.stdout.write(
            table(
              ['mv', 'type', 'source', 'no contact in', 'mail', 'also held by', 'found (run)'],
              lines.map((l) => [l.mvId, l.objectType, l.source, l.agent, l.mail, l.others, `${l.foundAt} (${l.runId ?? '-'})`]),
            ) + '\n',
          );
      } finally {
        store.close();
      }
    });
}
