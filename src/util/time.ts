/**
 * A point in time for --since and --until: an ISO date or date-time (2026-12-01, 2026-12-01T08:00,
 * with or without a zone; without one it is UTC, as the history's times are), or a span back from now
 * (30m, 12h, 7d). Returned as the history's ISO form, so it compares with it as text.
 */
export function parseTime(option: string, value: string, now = Date.now()): string {
  const span = /^(\d+)([mhd])$/.exec(value);
  if (span) return new Date(now - Number(span[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd']).toISOString();
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  const ms = iso ? Date.parse(/T/.test(value) && !/(Z|[+-]\d{2}:\d{2})$/.test(value) ? `${value}Z` : value) : NaN;
  if (Number.isNaN(ms))
    throw new Error(`${option} takes an ISO date or time (2026-12-01, 2026-12-01T08:00Z) or a span back from now (30m, 12h, 7d), not "${value}"`);
  return new Date(ms).toISOString();
}
