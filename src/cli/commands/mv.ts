/** `dirbridge mv search|show`: the metaverse, also the objects it deleted (read-only). */
import type { Command } from 'commander';
import { type MvDetail, Inspector, searchConditions } from '../../metaverse/inspect.js';
import { changeText } from '../history-text.js';
import { referenceAttributesOf } from '../../config/schema.js';
import { emit, type Format, formatOptions, out, page } from '../output.js';
import { NotFoundError, parseLimit, UsageError, type withStoreOf } from '../shared.js';
import { table } from '../table.js';

export function registerMv(program: Command, withStore: ReturnType<typeof withStoreOf>): void {
  const mv = program.command('mv').description('the metaverse: search objects, show one with its sources, connectors, lineage and history (read-only)');
  formatOptions(
    mv
      .command('search')
      .description('metaverse objects by type and attribute; patterns are case-insensitive, * matches anything')
      .option('--type <type>', 'object type (e.g. DominoUser, ExchangeUser)')
      .option('--mail <pattern>', 'mail')
      .option('--name <pattern>', 'cn')
      .option('--where <attr=pattern...>', 'any attribute (repeatable)')
      .option('--limit <n>', 'at most this many', '100'),
  )
    .addHelpText('after', '\nExamples:\n  dirbridge mv search --mail "jane*@acme.com"\n  dirbridge mv search --type DominoUser --where "title=engineer*" --csv')
    .action((o: Format & { type?: string; mail?: string; name?: string; where?: string[]; limit: string }) => {
      const limit = parseLimit(o.limit);
      const { conditions, invalid } = searchConditions(o);
      if (invalid.length) throw new UsageError(`--where takes attribute=pattern, not "${invalid[0]}"`);
      withStore((store, loaded) => {
        if (o.type && !loaded.config.metaverse.objectTypes[o.type])
          throw new UsageError(`--type: no object type "${o.type}"; types are: ${Object.keys(loaded.config.metaverse.objectTypes).join(', ')}`);
        const found = page(limit, (n) => new Inspector(store).searchMv({ ...(o.type ? { type: o.type } : {}), conditions, limit: n }));
        emit(o, found.rows, ['id', 'objectType', 'cn', 'mail', 'sources', 'createdRun', 'updatedAt'], 'no metaverse object matches', {
          more: found.more,
          shown: limit,
          hint: '--limit to see more, or narrow the search',
        });
      });
    });
  mv.command('show')
    .description('one metaverse object: "#12", a mail address, an anchor or a DN of any of its connectors; a deleted object is shown with its last image')
    .argument('<object>')
    .option('--json', 'as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  dirbridge mv show jane.doe@acme.com\n  dirbridge mv show "#12" --json\n  dirbridge mv show "CN=Jane Doe,OU=Notes Contacts,DC=acme,DC=com"',
    )
    .action((query: string, o: Format) =>
      withStore((store, loaded) => {
        const inspector = new Inspector(store);
        const live = inspector.resolveMv(query).map((id) => inspector.mvDetail(id, (type) => referenceAttributesOf(loaded.config.rules, type))!);
        // A deleted object is still findable: by its id, its last mail, or a DN or anchor it had.
        const details = live.length ? live : inspector.resolveDeletedMv(query).map((id) => inspector.deletedMvDetail(id)!);
        if (!details.length) throw new NotFoundError(`no metaverse object, present or deleted, matches "${query}" (by #id, mail, anchor or DN)`);
        if (o.json) return out(JSON.stringify(details.length === 1 ? details[0] : details, null, 2));
        for (const d of details) out(mvText(d));
      }),
    );
}

function mvText(d: MvDetail): string {
  const lines = [
    d.deleted
      ? `${d.objectType} #${d.id}: DELETED ${d.deleted.at} by run ${d.deleted.runId ?? '-'} (${d.deleted.reason ?? 'no reason recorded'}); created ${d.createdAt || 'before the history kept'} by run ${d.createdRun ?? '-'}`
      : `${d.objectType} #${d.id}: created ${d.createdAt} by run ${d.createdRun ?? '-'}, last changed ${d.updatedAt}`,
    '',
    d.deleted ? 'last image:' : 'attributes:',
    table(
      ['attribute', 'values', 'from agent'],
      // A group's members are listed below, resolved: their metaverse ids say nothing here.
      d.attributes.map((a) => [
        a.attribute,
        d.members.some((m) => m.attribute === a.attribute) ? `${a.values.length} (listed below)` : a.values.join(' | '),
        a.source,
      ]),
    ),
  ];
  for (const m of d.members)
    lines.push(
      `
${m.attribute} (${m.resolved.length} resolved):`,
      m.resolved.length
        ? table(
            ['member', 'object'],
            m.resolved.map((r) => [`#${r.id}`, r.label]),
          )
        : '(none)',
    );
  if (d.unresolvedMembers.length)
    lines.push(
      `
unresolved members (${d.unresolvedMembers.length}, not carried; each was reported once):`,
      table(
        ['agent', 'group object', 'attribute', 'member', 'why', 'since'],
        d.unresolvedMembers.map((u) => [u.agent, u.dn, u.attribute, u.member, u.reason, u.foundAt]),
      ),
    );
  if (!d.deleted)
    lines.push(
      '\nconnectors:',
      table(
        ['agent', 'dn', 'anchor', 'link', 'run', 'since', 'owned'],
        d.connectors.map((c) => [c.agent, c.dn, c.anchor ?? '', c.link ?? '', c.linkedRun ?? '', c.linkedAt ?? '', c.owned ? 'yes' : 'no']),
      ),
    );
  if (d.moves.length)
    lines.push(
      '\nmoves (a person who moved to the other side):',
      table(
        ['at', 'run', 'person', 'mailbox', 'now stands for it', 'contacts deleted', 'X500 carried', 'X500 on the mailbox'],
        d.moves.map((m) => [
          m.at,
          m.runId ?? '',
          m.personLabel,
          m.mailboxLabel,
          `${m.docDn} (${m.docAgent})`,
          m.contacts.map((c) => `${c.dn} (${c.agent})`).join('; ') || 'none',
          m.x500.join(' | ') || 'none',
          m.x500.length ? (m.x500Written ? 'added by dirbridge' : 'not written by dirbridge: add by hand') : '',
        ]),
      ),
    );
  lines.push(
    '\nlineage:',
    table(
      ['at', 'run', 'agent', 'event', 'dn', 'detail'],
      d.lineage.map((l) => [l.at, l.runId ?? '', l.agent, l.event, l.dn, l.detail ?? '']),
    ),
    '\nhistory:',
    changeText(d.history),
    '',
  );
  return lines.join('\n');
}
