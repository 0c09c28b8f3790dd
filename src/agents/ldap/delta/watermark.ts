/**
 * Watermarks are opaque to the engine: each strategy writes its own JSON, tagged with its name, so a
 * watermark written under another strategy (the config changed) is recognised and refused.
 */
import type { DeltaStrategyName } from '../config.js';
import { DeltaUnavailableError } from '../../types.js';

export function encodeWatermark(strategy: DeltaStrategyName, data: Record<string, unknown>): string {
  return JSON.stringify({ strategy, ...data });
}

export function decodeWatermark<T>(agent: string, strategy: DeltaStrategyName, text: string): T {
  let parsed: { strategy?: unknown } & Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new DeltaUnavailableError(agent, 'the stored watermark is not readable');
  }
  if (parsed.strategy !== strategy) {
    throw new DeltaUnavailableError(
      agent,
      `the stored watermark was written by the "${String(parsed.strategy)}" strategy and the config now says "${strategy}"`,
    );
  }
  return parsed as T;
}

/** LDAP GeneralizedTime (YYYYMMDDHHMMSS[.fff][Z|±hhmm]) to milliseconds since the epoch. */
export function parseGeneralizedTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', frac = '0', zone = 'Z'] = m;
  let ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi, +s, Math.floor(Number(`0.${frac}`) * 1000));
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return ms;
}

export function formatGeneralizedTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
