/**
 * CSV for scripts and spreadsheets (RFC 4180: every field quoted, CRLF line ends). A field that a
 * spreadsheet would take as a formula (it starts with =, +, -, @, a tab or a carriage return: a
 * directory value such as "=HYPERLINK(...)" or "+49 89 ...") is prefixed with an apostrophe, so it is
 * shown as text and never run (OWASP's CSV injection advice). `excel` adds the UTF-8 byte-order mark
 * without which Excel reads the file as the local code page and garbles non-ASCII names.
 */
export function toCsv<T extends object>(columns: readonly (keyof T & string)[], rows: readonly T[], options: { excel?: boolean } = {}): string {
  return `${options.excel ? '\uFEFF' : ''}${csvHeader(columns)}${csvLines(columns, rows)}`;
}

/** The header line alone. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.join(',')}\r\n`;
}

/** The lines of these rows alone (a download writes them a page at a time, under one header). */
export function csvLines<T extends object>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const field = (v: unknown): string => {
    const s = String(v ?? '');
    return `"${(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
  };
  return rows.map((r) => `${columns.map((c) => field(r[c])).join(',')}\r\n`).join('');
}
