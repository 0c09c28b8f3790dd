/**
 * The order of an agent's adds and updates when some name others by DN (a group whose members are
 * groups created or renamed in the same export): a directory that checks references (AD) refuses a
 * member that does not exist yet, so an export that names the DN another pending export creates (an
 * add, or a rename to it) goes out after it, wave after wave. What still names one after the last wave (a membership loop) goes out last, as it is.
 */
export interface WaveItem {
  id: number;
  /** The key of the DN this export creates: the DN of an add, the new DN of a rename. */
  adds?: string;
  /** The keys of the DNs its values name. */
  names: readonly string[];
}

export function exportWaves(items: readonly WaveItem[], maxWaves = 20): number[][] {
  const pendingAdds = new Set(items.flatMap((i) => (i.adds ? [i.adds] : [])));
  if (!pendingAdds.size) return [items.map((i) => i.id)];
  let left = [...items];
  const waves: number[][] = [];
  while (left.length && waves.length < maxWaves - 1) {
    const ready = left.filter((i) => !i.names.some((n) => n !== i.adds && pendingAdds.has(n)));
    if (!ready.length) break;
    waves.push(ready.map((i) => i.id));
    for (const i of ready) if (i.adds) pendingAdds.delete(i.adds);
    const done = new Set(ready.map((i) => i.id));
    left = left.filter((i) => !done.has(i.id));
  }
  if (left.length) waves.push(left.map((i) => i.id));
  return waves;
}
