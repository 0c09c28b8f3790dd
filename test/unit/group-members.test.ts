/** The pure pieces of mirrored groups: AD's ranged retrieval, membership as value changes in batches, export order. */
import type { Entry } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { completeRanges, parseRange, rangedRequest } from '../../src/agents/ldap/ranged.js';
import { valueBatches } from '../../src/agents/value-batches.js';
import { exportWaves } from '../../src/engine/export-waves.js';
import { valueDelta } from '../../src/rules/flows.js';

/** A directory that answers ranges of `total` members `cap` at a time, as AD does with MaxValRange. */
function rangedServer(total: number, cap: number) {
  const all = Array.from({ length: total }, (_, i) => `CN=m${i},OU=x`);
  const asked: string[] = [];
  const answer = (low: number, high: number): Entry => {
    const last = Math.min(high, low + cap - 1, total - 1);
    const end = last >= total - 1 ? '*' : String(last);
    return { dn: 'CN=g', [`member;range=${low}-${end}`]: all.slice(low, last + 1) } as Entry;
  };
  const fetch = async (_dn: string, attribute: string): Promise<Entry> => {
    asked.push(attribute);
    const r = parseRange(attribute)!;
    return answer(r.low, r.high === '*' ? Number.MAX_SAFE_INTEGER : r.high);
  };
  return { all, asked, first: () => answer(0, cap - 1), fetch };
}

describe('ranged retrieval', () => {
  it('reads a group of 5,000 members range by range until the server says the last came', async () => {
    const server = rangedServer(5000, 1500);
    const entry = await completeRanges(server.first(), 1500, server.fetch);
    expect(entry['member']).toEqual(server.all);
    expect(Object.keys(entry).filter((k) => k.includes(';'))).toEqual([]);
    expect(server.asked).toEqual(['member;range=1500-2999', 'member;range=3000-4499', 'member;range=4500-5999']);
  });

  it('a group that fits in the first range needs no second read; an empty range is an empty group', async () => {
    const small = rangedServer(10, 1500);
    expect((await completeRanges(small.first(), 1500, small.fetch))['member']).toHaveLength(10);
    expect(small.asked).toEqual([]);
    const empty = await completeRanges({ dn: 'CN=g', 'member;range=0-*': [] } as Entry, 1500, small.fetch);
    expect(empty['member']).toEqual([]);
    // A group with no members: ldapts lists the name asked for, empty; no second read.
    const none = await completeRanges({ dn: 'CN=g', 'member;range=0-1499': [] } as unknown as Entry, 1500, small.fetch);
    expect(none['member']).toEqual([]);
    expect(small.asked).toEqual([]);
  });

  it('a server capping lower than asked (MaxValRange 1000 for a range of 1500) is followed from where it stopped', async () => {
    const server = rangedServer(2500, 1000);
    const entry = await completeRanges(server.first(), 1500, server.fetch);
    expect(entry['member']).toEqual(server.all);
  });

  it('takes the range the server answered, not the empty one ldapts lists under the name asked for (as Samba answers)', async () => {
    const entry = { dn: 'CN=g', 'member;range=0-*': ['CN=a', 'CN=b'], 'member;range=0-399': [] } as unknown as Entry;
    const fetch = async (): Promise<Entry> => {
      throw new Error('no second read: the first answer was the last range');
    };
    expect((await completeRanges(entry, 400, fetch))['member']).toEqual(['CN=a', 'CN=b']);
    const tail = { dn: 'CN=g', 'member;range=0-1': ['CN=a', 'CN=b'] } as unknown as Entry;
    const rest = async (): Promise<Entry> => ({ dn: 'CN=g', 'member;range=2-*': 'CN=c', 'member;range=2-3': [] }) as unknown as Entry;
    expect((await completeRanges(tail, 2, rest))['member']).toEqual(['CN=a', 'CN=b', 'CN=c']);
  });

  it('asks for ranged attributes by range, case-insensitively, and leaves the others alone', () => {
    expect(rangedRequest(['cn', 'Member', 'mail'], new Set(['member']), 1500)).toEqual(['cn', 'Member;range=0-1499', 'mail']);
    expect(parseRange('member;range=1500-*')).toEqual({ attribute: 'member', low: 1500, high: '*' });
    expect(parseRange('member')).toBeUndefined();
  });
});

describe('membership as value changes', () => {
  it('ten members changed in a group of 5,000 are ten values, not 5,000', () => {
    const before = Array.from({ length: 5000 }, (_, i) => `CN=m${i},OU=x`);
    const after = [...before.slice(5), ...Array.from({ length: 5 }, (_, i) => `CN=n${i},OU=x`)];
    const delta = valueDelta(before, after);
    expect(delta.added).toHaveLength(5);
    expect(delta.removed).toEqual(before.slice(0, 5));
    expect(valueBatches({ add: delta.added, remove: delta.removed }, 1000)).toEqual([
      { operation: 'delete', values: before.slice(0, 5) },
      { operation: 'add', values: delta.added },
    ]);
  });

  it('compares members as DNs, however they are spelt', () => {
    expect(valueDelta(['CN=Jane Doe,OU=X,DC=a'], ['cn=jane doe, ou=x, dc=a'])).toEqual({ added: [], removed: [] });
  });

  it('cuts a large change into batches, removals first', () => {
    const add = Array.from({ length: 2500 }, (_, i) => `a${i}`);
    const batches = valueBatches({ add, remove: ['r'] }, 1000);
    expect(batches.map((b) => [b.operation, b.values.length])).toEqual([
      ['delete', 1],
      ['add', 1000],
      ['add', 1000],
      ['add', 500],
    ]);
  });
});

describe('export order of references', () => {
  it('an export naming the DN of another pending add goes after it; a loop goes last', () => {
    const waves = exportWaves([
      { id: 1, adds: 'cn=a', names: ['cn=b'] },
      { id: 2, adds: 'cn=b', names: ['cn=c'] },
      { id: 3, adds: 'cn=c', names: ['cn=p'] },
      { id: 4, names: ['cn=a'] },
      { id: 5, adds: 'cn=x', names: ['cn=y'] },
      { id: 6, adds: 'cn=y', names: ['cn=x'] },
    ]);
    expect(waves).toEqual([[3], [2], [1], [4], [5, 6]]);
  });

  it('a rename creates its new DN: a group that names it goes after the rename', () => {
    expect(
      exportWaves([
        { id: 8, names: ['cn=new'] },
        { id: 7, adds: 'cn=new', names: [] },
      ]),
    ).toEqual([[7], [8]]);
  });

  it('nothing to order: one wave', () => {
    expect(
      exportWaves([
        { id: 1, names: ['cn=a'] },
        { id: 2, names: [] },
      ]),
    ).toEqual([[1, 2]]);
  });
});
