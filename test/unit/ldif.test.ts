import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLdifRecords } from '../../src/agents/ldif/parse.js';
import { contentRecord, ldifLine } from '../../src/agents/ldif/write.js';

const dir = mkdtempSync(join(tmpdir(), 'dirbridge-ldif-'));
async function read(text: string) {
  const f = join(dir, `${Math.random()}.ldif`);
  writeFileSync(f, text);
  const out = [];
  for await (const r of readLdifRecords(f)) out.push(r);
  return out;
}

describe('LDIF', () => {
  it('reads folded lines, base64 values, comments and repeated attributes', async () => {
    const [r] = await read('version: 1\n\n# comment\ndn: cn=Zo\n e,o=x\ncn:: Wm/Dqw==\nmail: a@b.c\nMAIL: d@e.f\n');
    expect(r!.dn).toBe('cn=Zoe,o=x');
    expect(r!.attributes.get('cn')![0]!.toString()).toBe('Zoë');
    expect(r!.attributes.get('mail')!.map(String)).toEqual(['a@b.c', 'd@e.f']);
  });
  it('names file and line for a bad record', async () => {
    await expect(read('cn: nodn\n')).rejects.toThrow(/:1: a record must start with "dn:"/);
    await expect(read('dn: cn=a\nchangetype: add\n')).rejects.toThrow(/change records are not content/);
  });
  it('writes unsafe values as base64 and folds long lines', async () => {
    expect(ldifLine('cn', 'Zoë')).toBe('cn:: Wm/Dqw==');
    expect(ldifLine('cn', ' lead')).toMatch(/^cn:: /);
    const long = ldifLine('description', 'x'.repeat(200));
    expect(long.split('\n').every((l) => l.length <= 76)).toBe(true);
    const [back] = await read(contentRecord('cn=Zoë,o=x', { cn: ['Zoë'], description: ['x'.repeat(200)] }));
    expect(back!.dn).toBe('cn=Zoë,o=x');
    expect(back!.attributes.get('description')![0]!.toString()).toBe('x'.repeat(200));
  });
});
