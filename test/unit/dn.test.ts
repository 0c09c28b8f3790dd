import { describe, expect, it } from 'vitest';
import { escapeDnValue, formatDn, normalizeDn, parseDn, sameDn } from '../../src/util/dn.js';

describe('DN escaping and parsing', () => {
  const tricky = ['Doe, Jr.', 'A+B', 'Say "hi"', 'Back\\slash', '#first', 'semi;colon', '<angle>', 'a=b', ' lead', 'trail ', 'Zoë Ångström', '李 小龍'];

  it.each(tricky)('round-trips %j through escape and parse', (value) => {
    const dn = `CN=${escapeDnValue(value)},OU=Contacts,DC=example,DC=com`;
    const rdns = parseDn(dn);
    expect(rdns[0]).toEqual({ attribute: 'CN', value });
    expect(rdns).toHaveLength(4);
  });

  it('escapes every RFC 4514 special character so a name cannot add an RDN', () => {
    expect(escapeDnValue('x,OU=Evil')).toBe('x\\,OU\\=Evil');
    expect(parseDn(`CN=${escapeDnValue('x,OU=Evil')},DC=a`)).toHaveLength(2);
    expect(escapeDnValue('a\u0000b')).toBe('a\\00b');
  });

  it('reads hex-escaped UTF-8 as servers return it', () => {
    expect(parseDn('cn=Bj\\C3\\B6rn,o=x')[0]!.value).toBe('Björn');
  });

  it('compares DNs case-insensitively and ignores spacing after commas', () => {
    expect(sameDn('CN=Ann Lee, OU=X,DC=a', 'cn=ann lee,ou=x,dc=A')).toBe(true);
    expect(normalizeDn('CN=A\\2C B,DC=x')).toBe(normalizeDn('cn=a\\, b,dc=x'));
    expect(sameDn('CN=A,DC=x', 'CN=B,DC=x')).toBe(false);
  });

  it('gives a plain DN the key the full parser gives it', () => {
    // normalizeDn splits DNs without specials instead of parsing them: the two must agree.
    const parsed = (dn: string): string =>
      parseDn(dn)
        .map((r) => `${r.attribute.toLowerCase()}=${escapeDnValue(r.value.toLowerCase())}`)
        .join(',');
    const plain = [
      'CN=Ann Lee,OU=People,O=Acme',
      ' cn = Ann Lee , ou=x ',
      'cn=,o=x',
      'cn=   ,o=x',
      'CN=Zoë Ångström,DC=Example',
      'cn=İstanbul\u00a0Office,o=x',
      '2.5.4.3=x,o=y',
      'cn=a  b,o=x',
    ];
    for (const dn of plain) expect(normalizeDn(dn), dn).toBe(parsed(dn));
    expect(() => normalizeDn('cn=a,')).toThrow(/separator/);
    expect(() => normalizeDn('c n=a,o=x')).toThrow(/attribute type/);
    expect(normalizeDn('cn=a=b,o=x')).toBe('cn=a\\=b,o=x');
  });

  it('rejects malformed DNs', () => {
    expect(() => parseDn('no equals sign')).toThrow(/invalid DN/);
    expect(() => parseDn('cn=a,')).toThrow(/separator/);
    expect(formatDn(parseDn('cn=a\\+b,o=x'))).toBe('cn=a\\+b,o=x');
  });
});
