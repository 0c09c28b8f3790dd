/** RFC 2849 LDIF output: safe strings written as text, anything else base64, lines folded at 76. */

export type LdifValue = string | Buffer;

function isSafeString(value: string): boolean {
  if (value === '') return true;
  if (/^[ :<]/.test(value) || value.endsWith(' ')) return false;
  // SAFE-CHAR is ASCII 1-127 without CR and LF.
  return /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value);
}

export function ldifLine(name: string, value: LdifValue): string {
  const text = typeof value === 'string' && isSafeString(value) ? `${name}: ${value}` : `${name}:: ${Buffer.from(value).toString('base64')}`;
  return fold(text);
}

function fold(line: string): string {
  if (line.length <= 76) return line;
  const parts = [line.slice(0, 76)];
  for (let i = 76; i < line.length; i += 75) parts.push(' ' + line.slice(i, i + 75));
  return parts.join('\n');
}

export function contentRecord(dn: string, attributes: Record<string, LdifValue[]>): string {
  const lines = [ldifLine('dn', dn)];
  for (const [name, values] of Object.entries(attributes)) for (const v of values) lines.push(ldifLine(name, v));
  return lines.join('\n') + '\n';
}
