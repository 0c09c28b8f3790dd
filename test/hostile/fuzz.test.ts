/**
 * A bounded fuzz run (fast-check, a few seconds per target) over what reads untrusted text: the LDIF
 * reader, DN parsing and escaping, filter escaping, the config's YAML and the web view's request
 * handling over real HTTP. Each target may refuse its input only with its own named error, never with
 * another exception, a hang or a stopped server; escaping must give back exactly the value escaped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FilterParser } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdifSyntaxError, LdifTruncatedError, readLdifRecords } from '../../src/agents/ldif/parse.js';
import { ConfigError, ldapFilterProblem, parseYaml } from '../../src/config/load.js';
import { DnSyntaxError, escapeDnValue, formatDn, normalizeDn, parseDn } from '../../src/util/dn.js';
import { escapeFilterValue } from '../../src/util/filter.js';
import { startServe, type Served } from '../integration/harness/serve.js';
import { freshQuickstart } from './harness.js';

/** Each target runs for this long at most (and at most `numRuns` inputs). */
const BUDGET = { interruptAfterTimeLimit: 4_000, numRuns: 100_000 } as const;
const dir = mkdtempSync(join(tmpdir(), 'dirbridge-fuzz-'));

const VALID_LDIF =
  'version: 1\n\ndn: cn=Alice Archer,ou=Sales,o=Acme\nobjectClass: dominoPerson\ncn: Alice Archer\nsn:: QXJjaGVy\ndominoUNID: FA5D91045BE31D59BCBE77284EA3BDF7\n title: folded\n\n';

/** Bytes of LDIF-ish text: a valid file cut, spliced and sprinkled with the bytes parsers trip on. */
const ldifBytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc
    .tuple(fc.nat(VALID_LDIF.length), fc.uint8Array({ maxLength: 40 }), fc.nat(VALID_LDIF.length))
    .map(([a, junk, b]) => Buffer.concat([Buffer.from(VALID_LDIF.slice(0, a)), junk, Buffer.from(VALID_LDIF.slice(b))])),
  fc
    .array(
      fc.constantFrom(
        'dn:',
        'dn::',
        'cn: ',
        ':< file:///etc/passwd',
        '::',
        ' ',
        '\n',
        '\r\n',
        '\n\n',
        '#',
        '-',
        'changetype: add',
        '\u0000',
        '\uFEFF',
        'Zm9v',
        '=',
        ',',
        '\\',
      ),
      { maxLength: 60 },
    )
    .map((parts) => Buffer.from(parts.join(''))),
);

let n = 0;
async function readAll(bytes: Uint8Array): Promise<void> {
  const file = join(dir, `f${n++ % 8}.ldif`);
  writeFileSync(file, bytes);
  try {
    for await (const r of readLdifRecords(file)) {
      expect(typeof r.dn).toBe('string');
      for (const values of r.attributes.values()) for (const v of values) expect(Buffer.isBuffer(v)).toBe(true);
    }
  } catch (e) {
    if (!(e instanceof LdifSyntaxError || e instanceof LdifTruncatedError)) throw e;
  }
}

describe('hostile: fuzz', () => {
  it('the LDIF reader: records or a named syntax error, for any bytes', async () => {
    await fc.assert(fc.asyncProperty(ldifBytes, readAll), BUDGET);
  });

  it('DN parsing: RDNs or a DnSyntaxError, for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(fc.constantFrom('cn', '=', ',', '+', '\\', '"', '#', ' ', 'a', '\\2c', '\\zz', 'ou=x', ';', '<'), { maxLength: 30 }).map((p) => p.join('')),
        ),
        (dn) => {
          try {
            parseDn(dn);
            normalizeDn(dn);
          } catch (e) {
            if (!(e instanceof DnSyntaxError)) throw e;
          }
        },
      ),
      BUDGET,
    );
  });

  it('DN escaping: any value escaped into a DN is read back exactly, and the DN holds one RDN more', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => v.length > 0 && !/[\uD800-\uDFFF]/.test(v)),
        (value) => {
          const dn = `CN=${escapeDnValue(value)},OU=Domino Contacts,DC=acme,DC=example`;
          const rdns = parseDn(dn);
          expect(rdns).toHaveLength(4);
          expect(rdns[0]).toEqual({ attribute: 'CN', value });
          expect(parseDn(formatDn(rdns))[0]!.value).toBe(value);
        },
      ),
      BUDGET,
    );
  });

  it('filter escaping: any value escaped into an equality filter is one filter with exactly that value', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((v) => v.length > 0),
        (value) => {
          const filter = `(mail=${escapeFilterValue(value)})`;
          expect(ldapFilterProblem(filter)).toBeUndefined();
          const parsed = FilterParser.parseString(filter) as unknown as { attribute: string; value: string | Buffer };
          expect(parsed.attribute).toBe('mail');
          expect(Buffer.isBuffer(parsed.value) ? parsed.value.toString('utf8') : parsed.value).toBe(value);
        },
      ),
      BUDGET,
    );
  });

  it('the filter check of the config: an answer for any text, never an exception', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('(', ')', '&', '|', '!', '=', '*', 'cn', '\\', '~=', '>=', ' '), { maxLength: 30 }).map((p) => p.join('')),
        (f) => void ldapFilterProblem(f),
      ),
      BUDGET,
    );
  });

  it('the config YAML: data or a ConfigError, for any text, in bounded time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .array(fc.constantFrom('a: ', '&x ', '*x', '[', ']', '{', '}', '- ', '\n', '  ', '\t', '!!binary ', '<<: *x', '"', "'", '#', '? ', '|', '>'), {
              maxLength: 50,
            })
            .map((p) => p.join('')),
        ),
        (text) => {
          try {
            parseYaml('fuzz.yaml', text);
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
          }
        },
      ),
      BUDGET,
    );
  });

  describe('the web view', () => {
    const token = randomBytes(24).toString('hex');
    let served: Served;
    beforeAll(async () => {
      const d = freshQuickstart();
      expect(d.cli(['run', 'initial']).code).toBe(2);
      served = await startServe(d.config, { ...process.env, DIRBRIDGE_LOG_LEVEL: 'silent' }, token);
    });
    afterAll(() => served?.stop());

    /** Raw bytes to the server; the status code, or 0 when it hung up without an answer. */
    const send = (request: Buffer): Promise<number> =>
      new Promise((done) => {
        const socket = connect(served.port, '127.0.0.1', () => socket.end(request));
        let got = '';
        socket.setTimeout(10_000, () => socket.destroy());
        socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
        socket.on('error', () => done(0));
        socket.on('close', () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
      });

    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .array(
          fc.constantFrom(
            '/',
            '%',
            '%2F',
            '%00',
            '%E0%A4%A',
            '..',
            '?',
            '&',
            '=',
            'token',
            'mail',
            'where',
            'object',
            'runs',
            '#',
            '[',
            ']',
            '@',
            '\\',
            'http://',
            '//',
          ),
          { maxLength: 20 },
        )
        .map((p) => p.join('')),
    );

    it('any request target, cookie and query: an answer below 500 (or a refused request), and the server goes on', async () => {
      await fc.assert(
        fc.asyncProperty(text, text, fc.boolean(), async (target, cookie, withToken) => {
          const path = target.startsWith('/') ? target : `/${target}`;
          const head = `GET ${path.replace(/[\r\n ]/g, '')} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dirbridge_token=${withToken ? token : cookie.replace(/[\r\n]/g, '')}\r\nConnection: close\r\n\r\n`;
          const status = await send(Buffer.from(head, 'latin1'));
          expect(status === 0 || status < 500, `${status} for ${JSON.stringify(head)}`).toBe(true);
        }),
        { interruptAfterTimeLimit: 8_000, numRuns: 2_000 },
      );
      const alive = await fetch(`${served.base}/runs`, { headers: { Authorization: `Bearer ${token}` } });
      expect(alive.status).toBe(200);
    });
  });
});
