/** `dirbridge test-agent NAME`: is the agent usable as configured? One line per check; writes nothing. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { EXIT_CODES } from '../../engine/status.js';
import { testAgent } from '../../engine/test-agent.js';
import { requireAgent } from '../shared.js';

export function registerTestAgent(program: Command, config: () => LoadedConfig): void {
  program
    .command('test-agent')
    .description(
      'connect and sign in as an agent, and check what its config relies on (base, attributes, controls); writes nothing. Exit 0: all well; 2: a check failed; 3: cannot connect',
    )
    .argument('<agent>', 'agent name')
    .option('--json', 'as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const loaded = config();
      requireAgent(loaded, name);
      const result = await testAgent(loaded, name);
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        const width = Math.max(...result.checks.map((c) => c.check.length));
        const lines = [`${name} (${result.type}):`, ...result.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.check.padEnd(width)}  ${c.detail}`)];
        process.stdout.write(lines.join('\n') + '\n');
      }
      process.exitCode = !result.connected ? EXIT_CODES['stopped-server-down'] : result.checks.every((c) => c.ok) ? 0 : EXIT_CODES['completed-errors'];
    });
}
