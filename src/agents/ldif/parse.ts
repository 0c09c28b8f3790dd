/**
 * RFC 2849 LDIF content records, read line by line so a large ldifde or Domino export is never held
 * in memory whole. Values stay as Buffers here; the agent decides which attributes are text.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LdifRecord {
  dn: string;
  /** Attribute name as written in the file, with its raw values. */
  attributes: Map<string, Buffer[]>;
  /** 1-based line number where the record starts, for error messages. */
  line: number;
}

export class LdifSyntaxError extends Error {
  constructor(file: string, line: number, why: string) {
    super(`${file}:${line}: ${why}`);
    this.name = 'LdifSyntaxError';
  }
}

export async function* readLdifRecords(file: string): AsyncGenerator<LdifRecord> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let logical: { text: string; line: number } | undefined;
  let record: { lines: { text: string; line: number }[]; start: number } | undefined;
  let lineNo = 0;

  const finishLogical = (): void => {
    if (!logical) return;
    if (!logical.text.startsWith('#')) {
      record ??= { lines: [], start: logical.line };
      record.lines.push(logical);
    }
    logical = undefined;
  };

  for await (const raw of lines) {
    lineNo++;
    if (raw.startsWith(' ') && logical) {
      logical.text += raw.slice(1); // folded continuation line
      continue;
    }
    finishLogical();
    if (raw.trim() === '') {
      if (record) {
        const built = buildRecord(file, record.lines);
        record = undefined;
        if (built) yield built;
      }
      continue;
    }
    logical = { text: raw, line: lineNo };
  }
  finishLogical();
  if (record) {
    const built = buildRecord(file, record.lines);
    if (built) yield built;
  }
}

function buildRecord(file: string, lines: { text: string; line: number }[]): LdifRecord | undefined {
  const parsed = lines.map((l) => ({ ...parseLine(file, l.text, l.line), line: l.line }));
  if (parsed.length === 1 && parsed[0]!.name.toLowerCase() === 'version') return undefined;
  let start = 0;
  if (parsed[0]?.name.toLowerCase() === 'version') start = 1;
  const first = parsed[start];
  if (!first || first.name.toLowerCase() !== 'dn') {
    throw new LdifSyntaxError(file, lines[start]?.line ?? 0, 'a record must start with "dn:"');
  }
  const attributes = new Map<string, Buffer[]>();
  for (const p of parsed.slice(start + 1)) {
    if (p.name.toLowerCase() === 'changetype') {
      throw new LdifSyntaxError(file, p.line, 'change records are not content; give dirbridge an LDIF export, not a change file');
    }
    const key = [...attributes.keys()].find((k) => k.toLowerCase() === p.name.toLowerCase()) ?? p.name;
    const values = attributes.get(key) ?? [];
    values.push(p.value);
    attributes.set(key, values);
  }
  return { dn: first.value.toString('utf8'), attributes, line: first.line };
}

function parseLine(file: string, text: string, line: number): { name: string; value: Buffer } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new LdifSyntaxError(file, line, `expected "attribute: value", got "${text.slice(0, 40)}"`);
  // Attribute options such as ";binary" are dropped: dirbridge keys attributes by their type.
  const name = text.slice(0, colon).split(';')[0]!.trim();
  const rest = text.slice(colon + 1);
  if (rest.startsWith(':')) {
    const b64 = rest.slice(1).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new LdifSyntaxError(file, line, `attribute "${name}" has invalid base64`);
    return { name, value: Buffer.from(b64, 'base64') };
  }
  if (rest.startsWith('<')) throw new LdifSyntaxError(file, line, `attribute "${name}" refers to a URL; inline the value instead`);
  return { name, value: Buffer.from(rest.replace(/^ +/, ''), 'utf8') };
}
