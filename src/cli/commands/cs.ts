/**
 * `dirbridge cs search|show` (an agent's connector space, read-only), `cs join` and `cs disconnect`
 * (MIM's Joiner, recorded as runs), and `discard-deletions` for held deletions after review.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { disconnectByHand, discardDeletions, joinByHand, ManualChangeRefused, type ManualResult } from '../../engine/manual.js';
import { type CsFilter, Inspector } from '../../metaverse/inspect.js';
import { commandLineOrigin } from '../../util/origin.js';
import { changeText } from '../history-text.js';
import { emit, type Format, formatOptions, out, page } from '../output.js';
import { NotFoundError, parseLimit, requireAgent, UsageError, type withStoreOf } from '../shared.js';
import { table } from '../table.js';

const FILTERS: Record<CsFilter, string> = {
  'pending-import': 'imported changes not yet synchronized',
  'pending-export': 'changes waiting to be exported',
  disconnectors: 'objects linked to no metaverse object',
  errors: 'exports the directory refused',
};

export function registerCs(program: Command, config: () => LoadedConfig, withStore: ReturnType<typeof withStoreOf>): Command {
  const cs = program.command('cs').description("an agent's connector space: search by state, show one object");
  const search = cs.command('search').description('connector-space objects of an agent').argument('<agent>');
  for (const [f, what] of Object.entries(FILTERS)) search.option(`--${f}`, what);
  formatOptions(search.option('--limit <n>', 'at most this many', '100'))
    .addHelpText('after', '\nExamples:\n  dirbridge cs search ad-contacts --pending-export\n  dirbridge cs search domino-people --disconnectors --csv')
    .action((agent: string, o: Format & Record<string, unknown> & { limit: string }) =>
      withStore((store, loaded) => {
        const limit = parseLimit(o.limit);
        requireAgent(loaded, agent);
        const chosen = (Object.keys(FILTERS) as CsFilter[]).filter((f) => o[f.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())]);
        if (chosen.length > 1)
          throw new UsageError(
            `give one of ${Object.keys(FILTERS)
              .map((f) => `--${f}`)
              .join(', ')}`,
          );
        const found = page(limit, (n) => new Inspector(store).searchCs(agent, chosen[0], n));
        emit(o, found.rows, ['id', 'dn', 'anchor', 'pendingImport', 'pendingExport', 'lastError', 'mvId', 'link'], 'no object matches', {
          more: found.more,
          shown: limit,
          hint: '--limit to see more',
        });
      }),
    );
  cs.command('show')
    .description('one connector-space object by anchor or DN')
    .argument('<agent>')
    .argument('<object>')
    .option('--json', 'as JSON')
    .action((agent: string, query: string, o: Format) =>
      withStore((store, loaded) => {
        requireAgent(loaded, agent);
        const inspector = new Inspector(store);
        const found = inspector.resolveCs(agent, query);
        if (!found.length) throw new NotFoundError(`no object "${query}" in the connector space of ${agent} (by anchor or DN)`);
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
          out(changeText(d.history));
          out('');
        }
      }),
    );
  const manual = (fn: () => ManualResult): void => {
    try {
      const r = fn();
      for (const line of r.changed) out(line);
      out(`recorded as run ${r.runId} (dirbridge history show ${r.runId})`);
    } catch (e) {
      if (e instanceof ManualChangeRefused) throw e.notFound ? new NotFoundError(e.message) : new UsageError(e.message);
      throw e;
    }
  };
  cs.command('join')
    .description('join an object the rules left unlinked to a metaverse object, by hand (recorded with your reason); the next sync flows its values')
    .argument('<agent>')
    .argument('<object>', 'anchor or DN of the object in that agent')
    .argument('<mv>', 'the metaverse object: #id, mail, anchor or DN of one of its connectors')
    .requiredOption('--reason <text>', 'why, for the history')
    .addHelpText(
      'after',
      '\nExample:\n  dirbridge cs join ad-contacts "CN=J. Doe,OU=Contacts,DC=acme,DC=com" jane.doe@acme.com --reason "ticket 4711: old contact"',
    )
    .action((agent: string, object: string, mv: string, o: { reason: string }) => {
      const loaded = config();
      requireAgent(loaded, agent);
      manual(() => joinByHand(loaded, { agent, object, mv, reason: o.reason, origin: commandLineOrigin() }));
    });
  cs.command('disconnect')
    .description('disconnect a contact from its metaverse object by hand: it stays in its directory and no rule joins or deletes it until it is joined by hand')
    .argument('<agent>')
    .argument('<object>', 'anchor or DN of the object in that agent')
    .requiredOption('--reason <text>', 'why, for the history')
    .action((agent: string, object: string, o: { reason: string }) => {
      const loaded = config();
      requireAgent(loaded, agent);
      manual(() => disconnectByHand(loaded, { agent, object, reason: o.reason, origin: commandLineOrigin() }));
    });
  program
    .command('discard-deletions')
    .description(
      'after review, discard the pending deletions of an agent (all, or of the objects named) that the guards held: the objects stay, and no later run deletes them',
    )
    .argument('<agent>')
    .argument('[objects...]', 'anchors or DNs; all pending deletions of the agent when none is given')
    .requiredOption('--reason <text>', 'why, for the history')
    .addHelpText(
      'after',
      '\nFirst review them with "dirbridge plan --agent AGENT". For deletions that should happen, run the profile with --allow-deletes N instead.',
    )
    .action((agent: string, objects: string[], o: { reason: string }) => {
      const loaded = config();
      requireAgent(loaded, agent);
      manual(() => discardDeletions(loaded, { agent, objects, reason: o.reason, origin: commandLineOrigin() }));
    });
  return cs;
}
