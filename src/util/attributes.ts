import type { AttributeMap } from '../agents/types.js';

/** The attributes that differ, with their values before and after (absent = empty list). */
export function diffAttributes(before: AttributeMap, after: AttributeMap): { before: AttributeMap; after: AttributeMap } {
  const b: AttributeMap = {};
  const a: AttributeMap = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const x = before[k] ?? [];
    const y = after[k] ?? [];
    if (!sameValues(x, y)) { b[k] = x; a[k] = y; }
  }
  return { before: b, after: a };
}

export function sameValues(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  const s = new Set(x);
  return y.every((v) => s.has(v));
}
