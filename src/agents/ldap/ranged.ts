/**
 * Active Directory's ranged retrieval of large multi-valued attributes (MS-ADTS 3.1.1.3.1.3.3). AD
 * returns at most MaxValRange values of an attribute such as `member` (1,500 by default) and names
 * what it returned `member;range=0-1499`; the rest must be asked for range by range until a range
 * ends in `*`. Read without it, a large group looks smaller than it is, and a sync would remove the
 * members it did not see. The first request asks for a range too (not the plain attribute), so a
 * server that does not cap unranged reads (Samba) exercises the same path.
 */
import type { Entry } from 'ldapts';
import { valuesOf } from './entry.js';

const RANGE = /^([^;]+);range=(\d+)-(\d+|\*)$/i;

/** `member;range=0-1499` as its parts; undefined for a name without a range option. */
export function parseRange(name: string): { attribute: string; low: number; high: number | '*' } | undefined {
  const m = RANGE.exec(name);
  if (!m) return undefined;
  return { attribute: m[1]!, low: Number(m[2]), high: m[3] === '*' ? '*' : Number(m[3]) };
}

/** The attribute list of a search, with each ranged attribute asked for as its first range. */
export function rangedRequest(attributes: readonly string[], ranged: ReadonlySet<string>, size: number): string[] {
  return attributes.map((a) => (ranged.has(a.toLowerCase()) ? `${a};range=0-${size - 1}` : a));
}

/**
 * Completes an entry's ranged attributes: fetches the following ranges of each (`fetch` reads one
 * attribute option of the entry's DN) until the server says the last range came (`*`), and puts the
 * values together under the plain attribute name. A group whose first answer is an empty range is
 * empty; one that names a range is never taken as empty.
 */
export async function completeRanges(entry: Entry, size: number, fetch: (dn: string, attribute: string) => Promise<Entry | undefined>): Promise<Entry> {
  const attributes = new Set(Object.keys(entry).flatMap((k) => parseRange(k)?.attribute.toLowerCase() ?? []));
  for (const attribute of attributes) {
    const name = answered(entry, attribute)!;
    const range = parseRange(name)!;
    const values = [...valuesOf(entry[name])];
    for (const k of Object.keys(entry)) if (parseRange(k)?.attribute.toLowerCase() === attribute) delete entry[k];
    // Nothing came back but the name asked for, listed empty by ldapts: the server holds no value (AD
    // never answers an empty range that is not the last).
    let high = values.length ? range.high : '*';
    // A server that answered with fewer values than asked and no end marker could loop forever: each
    // round must move forward.
    while (high !== '*') {
      const low = high + 1;
      const next = await fetch(entry.dn, `${range.attribute};range=${low}-${low + size - 1}`);
      const found = next && answered(next, attribute);
      if (!next || !found) break;
      const got = parseRange(found)!;
      const more = valuesOf(next[found]);
      values.push(...more);
      if (got.high !== '*' && (more.length === 0 || got.high < low)) break;
      high = got.high;
    }
    entry[range.attribute] = values as Entry[string];
  }
  return entry;
}

/**
 * The range the server answered for an attribute. ldapts also lists each requested attribute it did
 * not get back, empty, under the name asked for (`member;range=0-1499` beside the server's
 * `member;range=0-*`): a range with values, or else the one that says it is the last, is the answer.
 */
function answered(entry: Entry, attribute: string): string | undefined {
  const names = Object.keys(entry).filter((k) => parseRange(k)?.attribute.toLowerCase() === attribute);
  return names.find((k) => valuesOf(entry[k]).length > 0) ?? names.find((k) => parseRange(k)!.high === '*') ?? names[0];
}
