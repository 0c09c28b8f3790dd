/** The pure pieces behind what the read-only commands print: CSV, tables, change rows, log lines, times, config discovery. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLogLine, useColor } from '../../src/cli/log-text.js';
import { discoverConfig } from '../../src/cli/shared.js';
import { table } from '../../src/cli/table.js';
import { changeRows } from '../../src/model/changes.js';
import { toCsv } from '../../src/util/csv.js';
import { parseTime } from '../../src/util/time.js';

describe('CSV', () => {
  it('quotes every field and shows what a spreadsheet would run as text', () => {
    const rows = [
      { a: '=HYPERLINK("http://x","y")', b: '+49 89 1234' },
      { a: '-1', b: '@SUM(A1)' },
      { a: 'plain, "quoted"', b: '\tTab' },
    ];
    expect(toCsv(['a', 'b'], rows)).toBe(
      'a,b\r\n"\'=HYPERLINK(""http://x"",""y"")","\'+49 89 1234"\r\n"\'-1","\'@SUM(A1)"\r\n"plain, ""quoted""","\'\tTab"\r\n',
    );
  });

  it('for Excel: the UTF-8 byte-order mark first', () => {
    const csv = toCsv(['name'], [{ name: 'Jürgen Ødegård' }], { excel: true });
    expect([...Buffer.from(csv, 'utf8').subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.slice(1)).toBe('name\r\n"Jürgen Ødegård"\r\n');
  });
});

describe('tables', () => {
  it('align by the columns a terminal shows: CJK and emoji take two', () => {
    const lines = table(
      ['name', 'n'],
      [
        ['山田太郎', 1],
        ['Ann', 22],
        ['🙂 x', 3],
      ],
    ).split('\n');
    expect(lines).toEqual(['name       n', '--------  --', '山田太郎   1', 'Ann       22', '🙂 x       3']);
  });
});

describe('change rows', () => {
  it('a connector-space add: the DN first, then each attribute', () => {
    expect(changeRows(undefined, { dn: 'cn=A', attributes: { sn: ['A'], mail: ['a@x', 'b@x'] } })).toEqual([
      { attribute: 'dn', before: '', after: 'cn=A' },
      { attribute: 'mail', before: '', after: 'a@x | b@x' },
      { attribute: 'sn', before: '', after: 'A' },
    ]);
  });

  it('an update, a rename, a metaverse deletion with its reason', () => {
    expect(changeRows({ title: [], dn: 'cn=A' }, { title: ['Boss'], dn: 'cn=B' })).toEqual([
      { attribute: 'dn', before: 'cn=A', after: 'cn=B' },
      { attribute: 'title', before: '', after: 'Boss' },
    ]);
    expect(changeRows({ cn: ['A'] }, { reason: 'gone' })).toEqual([
      { attribute: 'cn', before: 'A', after: '' },
      { attribute: 'reason', before: '', after: 'gone' },
    ]);
    expect(changeRows(undefined, undefined)).toEqual([]);
  });
});

describe('terminal log lines', () => {
  const line = JSON.stringify({ level: 40, time: '2026-12-02T05:08:56.123Z', pid: 1, event: 'problem', object: 'cn=A', code: 'x-y', msg: 'has no mail' });

  it('time, level, message, then the object and code', () => {
    expect(formatLogLine(line, false)).toBe('05:08:56 WARN  has no mail  (object=cn=A, code=x-y)\n');
    expect(formatLogLine(line, true)).toContain('\u001b[33mWARN ');
    expect(formatLogLine('not json', false)).toBe('not json');
  });

  it('colour only on a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('times for --since and --until', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  it('ISO dates and times (UTC without a zone), or a span back from now', () => {
    expect(parseTime('--since', '2026-12-01', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(parseTime('--since', '2026-12-01T08:00', now)).toBe('2026-12-01T08:00:00.000Z');
    expect(parseTime('--since', '2026-12-01T08:00+01:00', now)).toBe('2026-12-01T07:00:00.000Z');
    expect(parseTime('--since', '12h', now)).toBe('2026-12-02T00:00:00.000Z');
    expect(parseTime('--since', '7d', now)).toBe('2026-11-25T12:00:00.000Z');
  });
  it('anything else names the option and the forms it takes', () => {
    for (const bad of ['yesterday', '2026-13-45', '12', '1w', ''])
      expect(() => parseTime('--until', bad, now)).toThrow(/^--until takes an ISO date or time .* not "/);
  });
});

describe('config discovery', () => {
  it('--config, then DIRBRIDGE_CONFIG, then ./dirbridge.yaml, then the system file; none: where it looked', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dirbridge-discover-'));
    const system = join(cwd, 'etc.yaml');
    expect(discoverConfig({ flag: 'a.yaml', env: 'b.yaml', cwd, systemFile: system })).toBe('a.yaml');
    expect(discoverConfig({ env: 'b.yaml', cwd, systemFile: system })).toBe('b.yaml');
    expect(() => discoverConfig({ cwd, systemFile: system })).toThrow(/looked for .*dirbridge\.yaml and .*etc\.yaml/);
    writeFileSync(system, '');
    expect(discoverConfig({ cwd, systemFile: system })).toBe(system);
    writeFileSync(join(cwd, 'dirbridge.yaml'), '');
    expect(discoverConfig({ cwd, systemFile: system })).toBe(join(cwd, 'dirbridge.yaml'));
  });
});
