/** Plain aligned text tables for terminals; widths as a terminal shows them (CJK and emoji take two columns). */
import stringWidth from 'string-width';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => stringWidth(r[i] ?? ''))));
  const pad = (c: string, w: number, left: boolean): string => {
    const fill = ' '.repeat(Math.max(0, w - stringWidth(c)));
    return left ? fill + c : c + fill;
  };
  const line = (r: string[]): string =>
    r
      .map((c, i) => pad(c, widths[i]!, typeof rows[0]?.[i] === 'number'))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
