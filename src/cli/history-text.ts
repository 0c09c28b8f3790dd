/** A change-log entry as terminal text: the change on one line, then a row per attribute, before and after. */
import type { ChangeEntry } from '../metaverse/inspect.js';
import { table } from './table.js';

export function changeHeading(c: ChangeEntry): string {
  const where = c.space === 'cs' ? `${c.agent}: ${c.dn ?? c.object}` : `metaverse ${c.object} #${c.objectId}`;
  return `${c.at}  run ${c.runId ?? '-'}  ${c.operation}  ${where}`;
}

export function changeText(changes: readonly ChangeEntry[]): string {
  if (!changes.length) return '  (none)';
  return changes
    .map((c) => {
      const rows = c.rows.length
        ? table(
            ['attribute', 'before', 'after'],
            c.rows.map((r) => [r.attribute, r.before, r.after]),
          )
            .split('\n')
            .map((l) => `      ${l}`)
            .join('\n')
        : '';
      return `  ${changeHeading(c)}${rows ? `\n${rows}` : ''}`;
    })
    .join('\n');
}
