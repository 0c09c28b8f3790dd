import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LdifTruncatedError, readLdifRecords } from '../../src/agents/ldif/parse.js';
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
    // One bad record is flagged, not the whole file refused: the agent rejects that object alone.
    expect(await read('cn: nodn\n')).toMatchObject([{ dn: '', unidentified: true, syntaxProblem: { message: 'a record must start with "dn:" (line 1)' } }]);
    expect(await read('dn: cn=a\nchangetype: add\n')).toMatchObject([
      { dn: 'cn=a', syntaxProblem: { attribute: 'changetype', message: expect.stringMatching(/change record .*line 2.* not content/) } },
    ]);
    expect(await read('dn:: ***\ndominoUNID: 1\n')).toMatchObject([
      { dn: '', unidentified: true, syntaxProblem: { attribute: 'dn', message: expect.stringMatching(/invalid base64 \(.*\(line 1\)/) } },
    ]);
  });
  it('keeps text values as their bytes, so invalid UTF-8 reaches the agent as it is (never as U+FFFD)', async () => {
    const f = join(dir, 'bytes.ldif');
    writeFileSync(f, Buffer.concat([Buffer.from('dn: cn=a,o=x\nsn: '), Buffer.from([0x41, 0xff, 0x42]), Buffer.from('\n')]));
    const out = [];
    for await (const r of readLdifRecords(f)) out.push(r);
    expect([...out[0]!.attributes.get('sn')![0]!]).toEqual([0x41, 0xff, 0x42]);
  });
  it('flags a DN whose bytes are not UTF-8', async () => {
    const f = join(dir, 'dnbytes.ldif');
    writeFileSync(f, Buffer.concat([Buffer.from('dn: cn='), Buffer.from([0xc3, 0x28]), Buffer.from(',o=x\nsn: a\n')]));
    const out = [];
    for await (const r of readLdifRecords(f)) out.push(r);
    expect(out[0]!.dnProblem).toMatch(/not valid UTF-8 \(line 1\)/);
  });
  it('refuses a file that ends in the middle of a line: it is being written or was cut', async () => {
    await expect(read('dn: cn=a,o=x\nsn: A\n\ndn: cn=b,o=x\nsn: Bak')).rejects.toThrow(LdifTruncatedError);
    await expect(read('dn: cn=a,o=x\nsn: A\n\ndn: cn=b,o=x\nsn: Bak')).rejects.toThrow(/:5: the file ends in the middle of a line/);
    expect(await read('dn: cn=a,o=x\r\nsn: A\r\n')).toHaveLength(1);
  });
  it('refuses a record that starts with a space; flags an attribute name that is not one and base64 of the wrong length; reads past a byte order mark', async () => {
    await expect(read('dn: cn=a,o=x\nsn: A\n\n dn: cn=b,o=x\nsn: B\n')).rejects.toThrow(/:4: a line starts with a space but continues no line/);
    expect((await read('dn: cn=a,o=x\ns n: A\n'))[0]!.syntaxProblem).toEqual({ message: '"s n" is not an attribute name (line 2)' });
    expect(await read('dn: cn=a,o=x\ncn:: Wm/Dqw=\n\ndn: cn=b,o=x\n')).toMatchObject([
      { dn: 'cn=a,o=x', syntaxProblem: { attribute: 'cn', message: expect.stringMatching(/attribute "cn" has invalid base64/) } },
      { dn: 'cn=b,o=x' },
    ]);
    expect(await read('\uFEFFversion: 1\n\ndn: cn=a,o=x\n')).toMatchObject([{ dn: 'cn=a,o=x' }]);
    await expect(read('dn: cn=a,o=x\ncn:: Wm/D\n')).resolves.toHaveLength(1);
    expect((await read('dn: cn=a,o=x\n1.2.3.4: v\n'))[0]!.attributes.get('1.2.3.4')![0]!.toString()).toBe('v');
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
