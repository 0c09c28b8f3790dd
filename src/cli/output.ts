/**
 * How the read-only commands answer: an aligned table on a terminal, --json or --csv (--excel: CSV
 * Excel opens as UTF-8) for scripts. A list cut at --limit always says so, on stderr, so a script
 * reading stdout gets clean data and a person sees that there is more.
 */
import type { Command } from 'commander';
import { toCsv } from '../util/csv.js';
import { table } from './table.js';

export interface Format {
  json?: boolean;
  csv?: boolean;
  excel?: boolean;
}

export function formatOptions(cmd: Command, csv = true): Command {
  cmd.option('--json', 'as JSON');
  if (csv)
    cmd
      .option('--csv', 'as CSV (values a spreadsheet would run as a formula are prefixed with an apostrophe)')
      .option('--excel', 'as CSV for Excel (UTF-8 with a byte-order mark)');
  return cmd;
}

export const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

/** A list cut short: how many were shown, and how to see the rest. */
export interface Cut {
  more: boolean;
  shown: number;
  hint: string;
}

export function announceCut(cut: Cut | undefined): void {
  if (cut?.more) process.stderr.write(`dirbridge: showing the first ${cut.shown}; more match (${cut.hint})\n`);
}

export function emit<T extends object>(f: Format, rows: readonly T[], columns: (keyof T & string)[], empty: string, cut?: Cut): void {
  if (f.json) out(JSON.stringify(rows, null, 2));
  else if (f.csv || f.excel) process.stdout.write(toCsv(columns, rows, { excel: f.excel === true }));
  else if (!rows.length) out(empty);
  else
    out(
      table(
        columns,
        rows.map((r) =>
          columns.map((c) => {
            const v = (r as Record<string, unknown>)[c];
            return typeof v === 'number' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string);
          }),
        ),
      ),
    );
  announceCut(cut);
}

/** Asks for one more than the limit: whether the list was cut, without counting everything. */
export function page<T>(limit: number, fetch: (n: number) => T[]): { rows: T[]; more: boolean } {
  const rows = fetch(limit + 1);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
