/**
 * Distinguished names as RFC 4514 strings. Every value that goes into a DN passes through
 * escapeDnValue; nothing else in dirbridge concatenates DN text from directory data.
 */

export interface Rdn {
  attribute: string;
  value: string;
}

const HEX = '0123456789abcdef';

/** Escapes one attribute value for use inside an RDN (RFC 4514 section 2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const code = ch.charCodeAt(0);
    if (',+"\\<>;='.includes(ch)) out += '\\' + ch;
    else if (code === 0) out += '\\00';
    else if (code < 0x20 || code === 0x7f) out += '\\' + HEX[code >> 4] + HEX[code & 15];
    else if ((ch === '#' || ch === ' ') && i === 0) out += '\\' + ch;
    else if (ch === ' ' && i === value.length - 1) out += '\\ ';
    else out += ch;
  }
  return out;
}

export class DnSyntaxError extends Error {
  constructor(dn: string, why: string) {
    super(`invalid DN "${dn}": ${why}`);
    this.name = 'DnSyntaxError';
  }
}

/** An attribute type as a DN may name it: a descriptor (cn) or a numeric OID (2.5.4.3). */
const ATTRIBUTE_TYPE = /^[A-Za-z][A-Za-z0-9-]*$|^[0-9]+(\.[0-9]+)*$/;

/** Parses a DN into RDNs, unescaping values (multi-valued RDNs are kept as one RDN per component). */
export function parseDn(dn: string): Rdn[] {
  const rdns: Rdn[] = [];
  if (dn.trim() === '') return rdns;
  let i = 0;
  while (i < dn.length) {
    while (dn[i] === ' ') i++;
    const eq = dn.indexOf('=', i);
    if (eq < 0) throw new DnSyntaxError(dn, `missing "=" after position ${i}`);
    const attribute = dn.slice(i, eq).trim();
    if (!ATTRIBUTE_TYPE.test(attribute)) {
      throw new DnSyntaxError(dn, `bad attribute type "${attribute}"`);
    }
    i = eq + 1;
    // Plain characters are appended as text; only hex escapes (\c3\a9) are collected as bytes and
    // decoded together. Building every value byte by byte through Buffers showed in profiles.
    let value = '';
    let hex: number[] = [];
    let started = false;
    let pendingSpaces = 0;
    let ended = false;
    const flushHex = (): void => {
      if (hex.length) value += Buffer.from(hex).toString('utf8');
      hex = [];
    };
    const flushSpaces = (): void => {
      // Spaces before the first value character are insignificant; inner ones are kept.
      if (started && pendingSpaces > 0) {
        if (hex.length) for (let k = 0; k < pendingSpaces; k++) hex.push(0x20);
        else value += ' '.repeat(pendingSpaces);
      }
      pendingSpaces = 0;
    };
    const pushText = (text: string): void => {
      flushSpaces();
      flushHex();
      value += text;
      started = true;
    };
    while (i < dn.length && !ended) {
      const ch = dn[i]!;
      if (ch === '\\') {
        const next = dn[i + 1];
        if (next === undefined) throw new DnSyntaxError(dn, 'trailing backslash');
        if (isHexDigit(next) && isHexDigit(dn[i + 2] ?? '')) {
          flushSpaces();
          hex.push(parseInt(dn.slice(i + 1, i + 3), 16));
          started = true;
          i += 3;
        } else {
          pushText(next);
          i += 2;
        }
      } else if (ch === ',' || ch === '+' || ch === ';') {
        ended = true;
        i++;
      } else if (ch === ' ') {
        pendingSpaces++;
        i++;
      } else {
        pushText(ch);
        i++;
      }
    }
    flushHex();
    rdns.push({ attribute, value });
    if (ended && i >= dn.length) throw new DnSyntaxError(dn, 'ends with a separator');
  }
  return rdns;
}

export function formatDn(rdns: readonly Rdn[]): string {
  return rdns.map((r) => `${r.attribute}=${escapeDnValue(r.value)}`).join(',');
}

const isHexDigit = (c: string): boolean => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/** Recent normalizations: a sync asks for the same few DNs of an object several times. */
const normalized = new Map<string, string>();

/**
 * Characters that make a DN need the full parser: escapes, multi-valued RDNs, quotes, the other
 * specials, a value starting with '#', controls. Without them a DN is "type=value" parts joined by
 * commas, and its key is found by splitting (a full import normalizes every DN it reads).
 */
const NEEDS_PARSER = /[\\+";<>#\x00-\x1f\x7f]/;
const trimSpaces = (s: string): string => s.replace(/^ +| +$/g, '');

/** The key of a plain DN, or undefined when it needs the parser (which also reports what is wrong). */
function plainDnKey(dn: string): string | undefined {
  if (NEEDS_PARSER.test(dn) || dn.trim() === '') return undefined;
  const parts = dn.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    if (eq < 0 || part.indexOf('=', eq + 1) >= 0) return undefined;
    const attribute = trimSpaces(part.slice(0, eq));
    if (!ATTRIBUTE_TYPE.test(attribute)) return undefined;
    parts[i] = `${attribute}=${trimSpaces(part.slice(eq + 1))}`;
  }
  return parts.join(',').toLowerCase();
}

/** One RDN as a comparison key: type and value case-folded, the value escaped canonically. */
const rdnKey = (r: Rdn): string => `${r.attribute.toLowerCase()}=${escapeDnValue(r.value.toLowerCase())}`;

/** A comparison key: attribute types and values case-folded, escaping made canonical. */
export function normalizeDn(dn: string): string {
  let key = normalized.get(dn);
  if (key === undefined) {
    key = plainDnKey(dn) ?? parseDn(dn).map(rdnKey).join(',');
    if (normalized.size >= 4096) normalized.clear();
    normalized.set(dn, key);
  }
  return key;
}

/** A DN's lookup key: its normalized form, or, for a DN that does not parse, the text as it came, case-folded. */
export function dnKeyOf(dn: string): string {
  try {
    return normalizeDn(dn);
  } catch {
    return dn.toLowerCase();
  }
}

export function sameDn(a: string, b: string): boolean {
  return normalizeDn(a) === normalizeDn(b);
}

/** Splits a DN into its first RDN and the parent DN (used for renames). */
export function splitRdn(dn: string): { rdn: Rdn; parent: string } {
  const rdns = parseDn(dn);
  const first = rdns[0];
  if (!first) throw new DnSyntaxError(dn, 'empty DN');
  return { rdn: first, parent: formatDn(rdns.slice(1)) };
}

/** Whether a DN lies in a search of `base` with this scope ('sub': the base or below it; 'one': its children). */
export function isWithin(dn: string, base: string, scope: 'sub' | 'one'): boolean {
  const d = parseDn(dn).map(rdnKey);
  const b = parseDn(base).map(rdnKey);
  const extra = d.length - b.length;
  if (extra < 0 || (scope === 'one' && extra !== 1)) return false;
  return b.every((r, i) => r === d[extra + i]);
}
