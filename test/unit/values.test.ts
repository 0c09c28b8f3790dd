import { describe, expect, it } from 'vitest';
import { guidFromString, guidToString } from '../../src/util/guid.js';
import { smtpAddressProblem } from '../../src/util/smtp.js';
import { lookupValues } from '../../src/model/values.js';
import { isExchangeMailbox } from '../../src/rules/recipient.js';

describe('GUIDs', () => {
  it('formats objectGUID bytes as Windows shows them (first three fields little-endian)', () => {
    const bytes = Buffer.from('33221100554477668899aabbccddeeff', 'hex');
    expect(guidToString(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(guidFromString('{00112233-4455-6677-8899-AABBCCDDEEFF}').equals(bytes)).toBe(true);
  });
  it('refuses anything that is not 16 bytes', () => {
    expect(() => guidToString(Buffer.alloc(15))).toThrow(/16 bytes/);
  });
});

describe('SMTP addresses', () => {
  it.each([
    ['a@b.example', undefined],
    ['first.last+tag@mail.example.org', undefined],
    ['no-at-sign.example', 'is not of the form local@domain'],
    ['ivan at x.example', 'contains white space or control characters'],
    ['a@nodot', 'has an invalid domain "nodot"'],
    ['a..b@x.example', 'has an invalid local part "a..b"'],
    ['', 'is empty'],
  ])('%j -> %j', (address, problem) => {
    expect(smtpAddressProblem(address)).toBe(problem);
  });
  it('folds lookups one way: case, SMTP proxy addresses of either case without their prefix, other types and empty values left out', () => {
    expect(lookupValues(['SMTP:A@b.c', 'smtp:d@E.f', 'X500:/o=x', 'SMTP:'], 'smtp')).toEqual(['a@b.c', 'd@e.f']);
    expect(lookupValues(['Ann', 'ANN', ''])).toEqual(['ann']);
    expect(lookupValues(undefined)).toEqual([]);
  });
});

describe('Exchange mailbox recognition', () => {
  it('treats 64-bit recipient types as BigInt, never as JS numbers', () => {
    expect(isExchangeMailbox({ msexchrecipienttypedetails: ['34359738368'] })).toBe(true); // RemoteSharedMailbox
    expect(isExchangeMailbox({ msexchrecipienttypedetails: ['2147483648'] })).toBe(true); // RemoteUserMailbox
    expect(isExchangeMailbox({ msexchrecipienttypedetails: ['64'] })).toBe(false); // MailContact
    expect(isExchangeMailbox({ msexchrecipienttypedetails: ['128'], homemdb: ['x'] })).toBe(false); // MailUser
  });
  it('falls back to homeMDB or msExchMailboxGuid', () => {
    expect(isExchangeMailbox({ homemdb: ['CN=DB1'] })).toBe(true);
    expect(isExchangeMailbox({ msexchmailboxguid: ['x'] })).toBe(true);
    expect(isExchangeMailbox({ mail: ['a@b.c'] })).toBe(false);
  });
});
