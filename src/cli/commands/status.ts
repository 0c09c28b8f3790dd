/** `dirbridge status`: when each profile last ran and succeeded, and what needs attention. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { health } from '../../engine/health.js';
import { EXIT_CODES } from '../../engine/status.js';
import { Inspector } from '../../metaverse/inspect.js';
import { openReadOnly } from '../shared.js';
import { table } from '../table.js';

export function registerStatus(program: Command, config: () => LoadedConfig): void {
  program
    .command('status')
    .description('when each profile last ran and succeeded; warns when the delta cycle is overdue or the rules changed since a full sync (exit 1 on a warning)')
    .option('--json', 'as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  dirbridge status || echo "dirbridge needs attention"\n  dirbridge status --json          for monitoring\n  dirbridge status --integrity     once a night, after full-cycle',
    )
    .option(
      '--integrity',
      'also check every page of the store (SQLite quick_check: about a full read of the file, minutes at 1,000,000 per side); exit 74 if it is damaged',
    )
    .action((opts: { json?: boolean; integrity?: boolean }) => {
      const loaded = config();
      const store = openReadOnly(loaded, 'no profile has run yet');
      try {
        const damage = opts.integrity ? new Inspector(store).integrityProblems() : undefined;
        const h = { ...health(loaded, store), ...(damage ? { integrity: damage.length ? damage : 'ok' } : {}) };
        if (damage?.length) {
          h.healthy = false;
          h.warnings.unshift(
            `the store ${loaded.path(loaded.config.metaverse.file)} is damaged (${damage.slice(0, 3).join('; ')}): stop the schedule and restore it from a backup (docs/operations.md: A damaged or lost store)`,
          );
        }
        if (opts.json) process.stdout.write(JSON.stringify(h, null, 2) + '\n');
        else {
          const lines = [h.healthy ? 'healthy' : 'needs attention', ''];
          lines.push(
            h.profiles.length
              ? table(
                  ['profile', 'last run', 'status', 'started', 'last success', 'at'],
                  h.profiles.map((p) => [p.profile, p.lastRun, p.lastStatus, p.lastStartedAt, p.lastSuccessRun ?? '-', p.lastSuccessAt ?? 'never']),
                )
              : 'no runs yet',
          );
          for (const w of h.warnings) lines.push(`warning: ${w}`);
          for (const n of h.notes) lines.push(`note: ${n}`);
          if (damage && !damage.length) lines.push('integrity: ok (every page checked)');
          process.stdout.write(lines.join('\n') + '\n');
        }
        process.exitCode = damage?.length ? EXIT_CODES.store : h.healthy ? 0 : 1;
      } finally {
        store.close();
      }
    });
}
