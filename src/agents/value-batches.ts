/**
 * How values added to and removed from one attribute are cut into writes: removals first (a member
 * renamed in the same change is removed under its old DN before it is added under its new one), then
 * additions, at most `size` values per write. A change of ten members is ten values in one write,
 * whatever the size of the group.
 */
export interface ValueBatch {
  operation: 'add' | 'delete';
  values: string[];
}

export function valueBatches(delta: { add: readonly string[]; remove: readonly string[] }, size: number): ValueBatch[] {
  const out: ValueBatch[] = [];
  for (const [operation, values] of [
    ['delete', delta.remove],
    ['add', delta.add],
  ] as const) {
    for (let i = 0; i < values.length; i += size) out.push({ operation, values: values.slice(i, i + size) });
  }
  return out;
}

/** The batch size of an agent whose config does not say (a change file fed to ldapmodify or ldifde). */
export const DEFAULT_VALUE_BATCH = 1000;
