/**
 * RFC 2849 LDIF content records, read line by line so a large ldifde or Domino export is never held
 * in memory whole. Lines are read as bytes and values stay as Buffers: the agent decides which
 * attributes are text, and text that is not UTF-8 is an error it can name, never a silent U+FFFD.
 */
import { createReadStream } from 'node:fs';

export interface LdifRecord {
  dn: string;
  /** Set when the DN's bytes are not valid UTF-8 (dn then shows them with U+FFFD). */
  dnProblem?: string;
  /**
   * A line of the record that is not LDIF (bad base64, a URL value, a line without a colon, a change
   * record): the record is kept whole but flagged, so that the agent can reject this one object and
   * the file's other records are still read. `attribute` is what the line names, where it names one.
   */
  syntaxProblem?: { attribute?: string | undefined; message: string };
  /** The record has no readable DN: which object it is cannot be told. */
  unidentified?: boolean;
  /** Attribute name as written in the file, with its raw values. */
  attributes: Map<string, Buffer[]>;
  /** 1-based line number where the record starts, for error messages. */
  line: number;
}

export class LdifSyntaxError extends Error {
  constructor(
    file: string,
    line: number,
    readonly why: string,
  ) {
    super(`${file}:${line}: ${why}`);
    this.name = 'LdifSyntaxError';
  }
}

/** The file stops in the middle of a line: it is still being written, or was cut. */
export class LdifTruncatedError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: the file ends in the middle of a line (no line break after its last line): it is still being written, or was cut short`);
    this.name = 'LdifTruncatedError';
  }
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's lines as bytes (without CR LF), and whether the last one ended with a line break. */
async function* byteLines(file: string): AsyncGenerator<{ bytes: Buffer; terminated: boolean }> {
  let rest: Buffer = Buffer.alloc(0);
  let first = true;
  for await (const chunk of createReadStream(file)) {
    let data = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    // A UTF-8 byte order mark, as Windows tools write one, is not part of the first line.
    if (first && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
    first = false;
    let start = 0;
    for (let nl = data.indexOf(NEWLINE, start); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
      const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
      yield { bytes: data.subarray(start, end), terminated: true };
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
  }
  if (rest.length) yield { bytes: rest, terminated: false };
}

export async function* readLdifRecords(file: string): AsyncGenerator<LdifRecord> {
  let logical: { bytes: Buffer[]; line: number } | undefined;
  let record: { lines: { bytes: Buffer; line: number }[] } | undefined;
  let lineNo = 0;

  const finishLogical = (): void => {
    if (!logical) return;
    const bytes = logical.bytes.length === 1 ? logical.bytes[0]! : Buffer.concat(logical.bytes);
    if (bytes[0] !== 0x23 /* # */) {
      record ??= { lines: [] };
      record.lines.push({ bytes, line: logical.line });
    }
    logical = undefined;
  };

  for await (const { bytes, terminated } of byteLines(file)) {
    lineNo++;
    if (!terminated) throw new LdifTruncatedError(file, lineNo);
    if (bytes[0] === 0x20 /* space */) {
      // A folded continuation line; one with nothing to continue is not LDIF.
      if (!logical)
        throw new LdifSyntaxError(
          file,
          lineNo,
          'a line starts with a space but continues no line (a folded line after a blank line or at the start of a record)',
        );
      logical.bytes.push(bytes.subarray(1));
      continue;
    }
    finishLogical();
    if (isBlank(bytes)) {
      if (record) {
        const built = buildRecord(file, record.lines);
        record = undefined;
        if (built) yield built;
      }
      continue;
    }
    logical = { bytes: [bytes], line: lineNo };
  }
  finishLogical();
  if (record) {
    const built = buildRecord(file, record.lines);
    if (built) yield built;
  }
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09) return false;
  return true;
}

function buildRecord(file: string, lines: { bytes: Buffer; line: number }[]): LdifRecord | undefined {
  let syntaxProblem: LdifRecord['syntaxProblem'];
  const parsed: { name: string; value: Buffer; line: number }[] = [];
  for (const l of lines) {
    try {
      parsed.push({ ...parseLine(file, l.bytes, l.line), line: l.line });
    } catch (e) {
      if (!(e instanceof LdifSyntaxError)) throw e;
      const named = /^([A-Za-z][A-Za-z0-9-]*)\s*:/.exec(l.bytes.subarray(0, 200).toString('latin1'))?.[1];
      syntaxProblem ??= { ...(named ? { attribute: named } : {}), message: `${e.why} (line ${l.line})` };
      if (named?.toLowerCase() === 'dn') parsed.push({ name: 'dn', value: Buffer.alloc(0), line: l.line });
    }
  }
  if (parsed.length === 1 && parsed[0]!.name.toLowerCase() === 'version' && !syntaxProblem) return undefined;
  let start = 0;
  if (parsed[0]?.name.toLowerCase() === 'version') start = 1;
  const first = parsed[start];
  const line = first?.line ?? lines[0]!.line;
  // A record whose DN cannot be read is still read: its anchor, if it has one, keeps the object it
  // names from looking deleted.
  const identified = first?.name.toLowerCase() === 'dn' && syntaxProblem?.attribute?.toLowerCase() !== 'dn';
  if (!identified) syntaxProblem ??= { message: `a record must start with "dn:" (line ${line})` };
  // Names are case-insensitive: the first spelling is kept, found through its lower case (a lookup,
  // so that an entry with tens of thousands of names costs linear time).
  const attributes = new Map<string, Buffer[]>();
  const spelled = new Map<string, Buffer[]>();
  for (const p of identified ? parsed.slice(start + 1) : parsed) {
    const lower = p.name.toLowerCase();
    if (!identified && lower === 'dn') continue;
    if (lower === 'changetype')
      syntaxProblem ??= {
        attribute: p.name,
        message: `a change record (changetype, line ${p.line}) is not content; give dirbridge an LDIF export, not a change file`,
      };
    addValue(attributes, p.name, p.value, spelled);
  }
  if (!identified) return { dn: '', attributes, line, syntaxProblem, unidentified: true };
  let dn: string;
  let dnProblem: string | undefined;
  try {
    dn = utf8.decode(first!.value);
  } catch {
    dn = first!.value.toString('utf8');
    dnProblem = `the DN is not valid UTF-8 (line ${first!.line})`;
  }
  return { dn, attributes, line, ...(dnProblem ? { dnProblem } : {}), ...(syntaxProblem ? { syntaxProblem } : {}) };
}

function addValue(attributes: Map<string, Buffer[]>, name: string, value: Buffer, spelled: Map<string, Buffer[]>): void {
  const lower = name.toLowerCase();
  let values = spelled.get(lower);
  if (!values) {
    values = [];
    spelled.set(lower, values);
    attributes.set(name, values);
  }
  values.push(value);
}

const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(;[A-Za-z0-9-]+)*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseLine(file: string, bytes: Buffer, line: number): { name: string; value: Buffer } {
  const colon = bytes.indexOf(0x3a /* : */);
  const shown = (): string => bytes.subarray(0, 40).toString('utf8');
  if (colon <= 0) throw new LdifSyntaxError(file, line, `expected "attribute: value", got "${shown()}"`);
  const written = bytes.subarray(0, colon).toString('latin1').trim();
  if (!ATTRIBUTE_NAME.test(written)) throw new LdifSyntaxError(file, line, `"${written.slice(0, 40)}" is not an attribute name`);
  // Attribute options such as ";binary" are dropped: dirbridge keys attributes by their type.
  const name = written.split(';')[0]!;
  const next = bytes[colon + 1];
  if (next === 0x3a /* :: base64 */) {
    const b64 = bytes
      .subarray(colon + 2)
      .toString('latin1')
      .trim();
    // Strict: a value of the wrong length or with stray characters was damaged, and is not guessed at.
    if (!BASE64.test(b64))
      throw new LdifSyntaxError(file, line, `attribute "${name}" has invalid base64 (wrong length or characters outside the base64 alphabet)`);
    return { name, value: Buffer.from(b64, 'base64') };
  }
  if (next === 0x3c /* :< URL */) throw new LdifSyntaxError(file, line, `attribute "${name}" refers to a URL; inline the value instead`);
  let from = colon + 1;
  while (bytes[from] === 0x20) from++;
  return { name, value: Buffer.from(bytes.subarray(from)) };
}
