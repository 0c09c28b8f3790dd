/** Comparing and folding attribute values: the one case and SMTP fold every lookup uses. */
import type { AttributeMap } from './objects.js';

/** The attributes that differ, with their values before and after (absent = empty list). */
export function diffAttributes(before: AttributeMap, after: AttributeMap): { before: AttributeMap; after: AttributeMap } {
  const b: AttributeMap = {};
  const a: AttributeMap = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const x = before[k] ?? [];
    const y = after[k] ?? [];
    if (!sameValues(x, y)) {
      b[k] = x;
      a[k] = y;
    }
  }
  return { before: b, after: a };
}

export function sameValues(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  const s = new Set(x);
  return y.every((v) => s.has(v));
}

/**
 * The values of an attribute as lookups compare them: case-folded, and with `smtp` only the SMTP
 * addresses of an address list ("SMTP:a@b", "smtp:a@b"), without their prefix; empty values never
 * match anything. Joins, the lookup index and conflict checks all fold through here.
 */
export function lookupValues(values: readonly string[] | undefined, transform?: 'smtp' | 'none'): string[] {
  const out = new Set<string>();
  for (const v of values ?? []) {
    if (transform === 'smtp') {
      if (/^smtp:/i.test(v) && v.length > 5) out.add(v.slice(5).toLowerCase());
    } else if (v !== '') out.add(v.toLowerCase());
  }
  return [...out];
}
