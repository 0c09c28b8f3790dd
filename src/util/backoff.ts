/**
 * The one retry loop dirbridge has (over p-retry): exponential backoff with jitter, a bounded number
 * of attempts, the wait a server asked for (Retry-After) before the backoff's own, and a report of
 * each retry. The engine retries a directory's temporary failures with it, the Microsoft cloud
 * agents each HTTP request; they differ only in what may be retried and what a retry costs.
 */
import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';

/** safety.retry in the config. */
export interface RetrySettings {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface Backoff {
  /** Whether this failure may pass if tried again; any other ends the loop at once. */
  retryable: (e: unknown) => boolean;
  /** How long the server asked the client to wait, when it said. */
  askedWaitMs?: (e: unknown) => number | undefined;
  /** Called before each retry with what failed, the attempts left and the wait the server asked for. */
  onRetry?: (e: Error, retriesLeft: number, askedMs: number | undefined) => void;
}

/** Runs `attempt` (given its number, from 0) until it succeeds, fails with what may not be retried, or the attempts are used up; the last error goes to the caller. */
export async function withBackoff<T>(settings: RetrySettings, backoff: Backoff, attempt: (n: number) => Promise<T>): Promise<T> {
  let n = 0;
  return pRetry(
    async () => {
      try {
        return await attempt(n++);
      } catch (e) {
        // p-retry retries every error it is given: only the ones that may pass are given to it.
        if (!backoff.retryable(e)) throw new AbortError(e as Error);
        throw e;
      }
    },
    {
      retries: settings.attempts,
      minTimeout: settings.initialDelayMs,
      maxTimeout: settings.maxDelayMs,
      factor: 2,
      randomize: true,
      onFailedAttempt: async ({ error, retriesLeft }) => {
        if (retriesLeft === 0) return;
        const asked = backoff.askedWaitMs?.(error);
        backoff.onRetry?.(error, retriesLeft, asked);
        // The server's own wait comes first; the backoff is added after it.
        if (asked) await sleep(Math.min(asked, settings.maxDelayMs));
      },
    },
  ); // p-retry rethrows an AbortError's original error
}

/** "… failed (why); retrying (2 attempts left) after the 5 s the server asked for". */
export function retryMessage(what: string, e: Error, retriesLeft: number, askedMs: number | undefined, asker = 'server'): string {
  const wait = askedMs ? ` after the ${askedMs < 1000 ? `${askedMs} ms` : `${Math.ceil(askedMs / 1000)} s`} the ${asker} asked for` : '';
  return `${what} failed (${e.message}); retrying (${retriesLeft} ${retriesLeft === 1 ? 'attempt' : 'attempts'} left)${wait}`;
}
