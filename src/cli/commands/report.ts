/**
 * `dirbridge report`: for auditors, every contact with the person it stands for, the address
 * conflicts, contacts whose person is gone, and people who got no contact; with the time it was made.
 */
import type { Command } from 'commander';
import { Inspector } from '../../metaverse/inspect.js';
import { toCsv } from '../../util/csv.js';
import { emit, type Format, formatOptions, out } from '../output.js';
import { UsageError, type withStoreOf } from '../shared.js';

const SECTIONS = ['contacts', 'conflicts', 'orphans', 'uncovered'] as const;
type Section = (typeof SECTIONS)[number];

export function registerReport(program: Command, withStore: ReturnType<typeof withStoreOf>): void {
  formatOptions(
    program
      .command('report')
      .description(
        'for auditors: every contact with the person it stands for (created by dirbridge or joined), address conflicts, contacts whose person is gone, people with no contact',
      )
      .option('--section <name>', `only one of ${SECTIONS.join(', ')} (with --csv, one section is required)`),
  )
    .addHelpText('after', '\nExamples:\n  dirbridge report\n  dirbridge report --section contacts --excel > contacts.csv\n  dirbridge report --json')
    .action((o: Format & { section?: string }) =>
      withStore((store) => {
        if (o.section !== undefined && !(SECTIONS as readonly string[]).includes(o.section)) throw new UsageError(`--section is one of ${SECTIONS.join(', ')}`);
        const section = o.section as Section | undefined;
        const inspector = new Inspector(store);
        const generatedAt = new Date().toISOString();
        const read = {
          contacts: () => inspector.reportContacts(),
          conflicts: () => inspector.conflicts(),
          orphans: () => inspector.reportOrphans(),
          uncovered: () => inspector.reportUncovered(),
        };
        if (o.csv || o.excel) {
          if (!section) throw new UsageError(`--csv writes one section: add --section ${SECTIONS.join(', ')}`);
          const rows = read[section]();
          return void process.stdout.write(toCsv(Object.keys(rows[0] ?? { empty: '' }) as never, rows as never, { excel: o.excel === true }));
        }
        const contacts = section === undefined || section === 'contacts' ? read.contacts() : [];
        const summary = {
          provisioned: contacts.filter((c) => c.origin === 'provisioned').length,
          joined: contacts.filter((c) => c.origin === 'joined').length,
        };
        if (o.json) {
          if (section) return out(JSON.stringify({ generatedAt, [section]: read[section]() }, null, 2));
          return out(
            JSON.stringify({ generatedAt, summary, contacts, conflicts: read.conflicts(), orphans: read.orphans(), uncovered: read.uncovered() }, null, 2),
          );
        }
        out(`report generated ${generatedAt}\n`);
        if (!section || section === 'contacts') {
          out(
            `contacts: ${summary.provisioned} created by dirbridge (it may delete them), ${summary.joined} joined (existing ones it keeps up to date and never deletes)\n`,
          );
          emit({}, contacts, ['agent', 'contact', 'mail', 'origin', 'personType', 'person', 'personSource', 'createdRun'], 'no contacts');
        }
        if (!section || section === 'conflicts') {
          out('\naddress conflicts (no contact while the address is shared):');
          emit({}, read.conflicts(), ['objectType', 'source', 'agent', 'mail', 'others', 'runId'], '  none');
        }
        if (!section || section === 'orphans') {
          out('\ncontacts whose person is gone (created by dirbridge, linked to nothing):');
          emit({}, read.orphans(), ['agent', 'contact', 'why'], '  none');
        }
        if (!section || section === 'uncovered') {
          out('\npeople with no contact in any directory:');
          emit({}, read.uncovered(), ['mvId', 'objectType', 'person', 'personSource', 'mail', 'why'], '  none');
        }
      }),
    );
}
