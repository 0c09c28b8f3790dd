/**
 * A change-log entry's images as rows an auditor reads: one row per attribute (the DN and the anchor
 * first), its values before and after. The change log keeps each kind of change in its own shape (a
 * connector-space add or delete as {dn, attributes}, an update as the changed attributes, a metaverse
 * change as its attributes, a conflict as its facts); this reads them all.
 */
export interface ChangeRow {
  attribute: string;
  before: string;
  after: string;
}

const FIRST = ['dn', 'anchor'];

function flatten(image: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (image === null || image === undefined || typeof image !== 'object' || Array.isArray(image)) {
    if (image !== undefined && image !== null) out.set('value', String(image as string));
    return out;
  }
  for (const [k, v] of Object.entries(image as Record<string, unknown>)) {
    if (k === 'attributes' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [a, values] of Object.entries(v as Record<string, unknown>)) out.set(a, text(values));
    } else out.set(k, text(v));
  }
  return out;
}

function text(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => String(x as string)).join(' | ');
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v as string);
}

export function changeRows(before: unknown, after: unknown): ChangeRow[] {
  const b = flatten(before);
  const a = flatten(after);
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort((x, y) => {
    const i = FIRST.indexOf(x);
    const j = FIRST.indexOf(y);
    if (i !== j) return (i === -1 ? FIRST.length : i) - (j === -1 ? FIRST.length : j);
    return x.localeCompare(y);
  });
  return keys.map((k) => ({ attribute: k, before: b.get(k) ?? '', after: a.get(k) ?? '' }));
}

/** The operations the change log records, for a search form (listing them from the log would read all of it). */
export const CHANGE_OPERATIONS = [
  'import-add',
  'import-update',
  'import-delete',
  'cs-delete',
  'mv-add',
  'mv-update',
  'mv-delete',
  'address-conflict',
  'address-conflict-resolved',
  'provision',
  'provision-update',
  'provision-cancel',
  'export-add',
  'export-update',
  'export-rename',
  'export-delete',
  'manual-join',
  'manual-disconnect',
  'deletion-discarded',
  'person-move',
] as const;
