/**
 * Logs as a person reads them on a terminal: "12:04:31 WARN  message  (agent=..., object=...)",
 * coloured unless NO_COLOR is set or the terminal is dumb. pino writes JSON lines; this turns each into
 * one text line. Files and pipes keep the JSON. A progress bar may be drawn on the same terminal: the
 * line is cleared first, and the bar redraws itself below on its next update.
 *
 * Our own dozen lines rather than pino-pretty: the lines are ours and few in kind, and pino-pretty
 * brings thirteen packages (a CLI among them) for it.
 */
const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '90'],
  30: ['INFO ', '36'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '31'],
};
/** The fields a message does not already say, shown after it; the rest stay in the JSON form. */
const SHOWN = ['object', 'attribute', 'code', 'reason', 'err'];

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function formatLogLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const [name, code] = LEVELS[entry.level as number] ?? ['LOG  ', '0'];
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const extra = SHOWN.filter((k) => entry[k] !== undefined && entry[k] !== null && entry[k] !== '').map((k) => {
    const v = entry[k];
    return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v as string)}`;
  });
  const paint = (c: string, s: string): string => (color ? `\u001b[${c}m${s}\u001b[0m` : s);
  return `${paint('90', time)} ${paint(code, name)} ${String(entry.msg ?? '')}${extra.length ? paint('90', `  (${extra.join(', ')})`) : ''}\n`;
}

/** A pino destination for a terminal: each JSON line written as text, after clearing a progress bar's line. */
export function terminalLogStream(out: NodeJS.WriteStream, color = useColor(out)): { write(line: string): void } {
  return {
    write(line: string) {
      out.write((out.isTTY ? '\r\u001b[2K' : '') + formatLogLine(line, color));
    },
  };
}
