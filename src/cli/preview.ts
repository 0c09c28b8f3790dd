/** The text form of `dirbridge preview`: each decision under the object it is about, then the outcome. */
import type { PreviewResult } from '../engine/preview.js';
import { isValueDelta, type PendingExport } from '../model/objects.js';

const values = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v));

function describeExport(p: PendingExport): string {
  if (p.operation === 'add') return `add ${p.dn} (${p.agent})`;
  if (p.operation === 'delete') return `delete ${p.dn} (${p.agent})`;
  const parts = Object.entries(p.changes).map(([k, c]) =>
    isValueDelta(c) ? `${k}: add ${values(c.added ?? [])}, remove ${values(c.removed ?? [])}` : `${k}: ${values(c.before)} -> ${values(c.after)}`,
  );
  if (p.newDn) parts.unshift(`rename to ${p.newDn}`);
  return `modify ${p.dn} (${p.agent}): ${parts.join('; ')}`;
}

export function previewText(r: PreviewResult): string {
  const out: string[] = [`preview of "${r.query}" (matched by ${r.matchedBy}); nothing is written`, ''];
  let current = '';
  const width = Math.max(...r.trace.map((t) => t.rule.length), 4);
  for (const t of r.trace) {
    const heading = `${t.object} (${t.agent})`;
    if (heading !== current) {
      out.push(heading);
      current = heading;
    }
    out.push(`  ${t.rule.padEnd(width)}  ${t.decision}`);
  }
  out.push('', 'a sync would:');
  const lines = [
    ...r.changes.map(
      (c) =>
        `  ${c.operation} ${c.objectRef}${c.space === 'mv' ? ` (metaverse #${c.objectId})` : ` (${c.agent})`}${c.before !== undefined || c.after !== undefined ? `: ${values(c.before)} -> ${values(c.after)}` : ''}`,
    ),
    ...r.exports.staged.map((p) => `  stage export: ${describeExport(p)}`),
    ...r.exports.withdrawn.map((p) => `  withdraw pending export: ${describeExport(p)}`),
  ];
  out.push(...(lines.length ? lines : ['  change nothing']));
  if (r.problems.length) {
    out.push('', 'problems it would report:');
    for (const p of r.problems) out.push(`  ${p.severity} ${p.code}: ${p.object}${p.attribute ? ` [${p.attribute}]` : ''}: ${p.message}`);
  }
  return out.join('\n') + '\n';
}
