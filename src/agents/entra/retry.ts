/**
 * Retries of one HTTP request to a Microsoft cloud service, inside the agent: throttling (429), a
 * service that is busy or failing (5xx), a broken connection or a timeout. The wait the service asks
 * for (Retry-After, in seconds or as a date) comes first; otherwise exponential backoff. Retrying
 * here, per request, lets a long page sequence ride out throttling without starting over. When the
 * attempts are used up the error names the request and the last answer, and the engine does not
 * retry it again.
 */
import { type RetrySettings, retryMessage, withBackoff } from '../../util/backoff.js';
import { ServerDownError } from '../types.js';

export type { RetrySettings };

/** What a failed request said: the HTTP status (0 for no answer), the service's error code, its Retry-After. */
export interface HttpFailure {
  status: number;
  code?: string;
  message: string;
  retryAfter?: string | null;
}

export class HttpError extends Error {
  constructor(readonly failure: HttpFailure) {
    super(`${failure.status ? `HTTP ${failure.status}` : 'no answer'}${failure.code ? ` ${failure.code}` : ''}: ${failure.message}`);
    this.name = 'HttpError';
  }
}

const RETRIED = new Set([429, 500, 502, 503, 504]);

export interface RetryContext {
  agent: string;
  settings: RetrySettings;
  /** Reported for each retry, with the object it concerns (the engine turns it into a warning). */
  onRetry?: (object: string, message: string) => void;
  /** Called on a 401: the next attempt signs in again. */
  renewToken: () => void;
}

export async function requestWithRetries<T>(rc: RetryContext, object: string, what: string, send: () => Promise<T>): Promise<T> {
  let renewed = false;
  return withBackoff(
    rc.settings,
    {
      retryable: (e) => {
        if (!(e instanceof HttpError)) return false;
        const { status } = e.failure;
        if (status === 401 && !renewed) {
          // A token the service no longer accepts: one fresh sign-in, then the answer counts.
          renewed = true;
          rc.renewToken();
          return true;
        }
        return status === 0 || RETRIED.has(status);
      },
      askedWaitMs: (e) => (e instanceof HttpError ? retryAfterMs(e.failure.retryAfter) : undefined),
      onRetry: (e, left, asked) => rc.onRetry?.(object, retryMessage(what, e, left, asked, 'service')),
    },
    () => send(),
  ).catch((e: unknown) => {
    if (!(e instanceof HttpError)) throw e;
    const { status } = e.failure;
    if (status === 0 || RETRIED.has(status) || status === 401) {
      throw new ServerDownError(rc.agent, `gave up on ${what} for ${object} after ${rc.settings.attempts} retries: ${e.message}`, true);
    }
    throw e;
  });
}

/** Retry-After is either seconds or an HTTP date. */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
