/**
 * Bounded retries with exponential backoff for failures that may pass: a directory that is busy or
 * throttling (TransientError) or a connection that broke (ServerDownError, after reconnecting). Every
 * retry is recorded as a warning, so a run that needed them never passes for a clean one; when the
 * attempts are used up the last error goes to the caller, which decides what it means for the step.
 */
import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, ServerDownError, TransientError } from '../agents/types.js';
import type { StepContext } from './context.js';

export function isRetryable(e: unknown): e is ServerDownError | TransientError {
  return (e instanceof ServerDownError && !e.final) || e instanceof TransientError;
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retryable, or the configured
 * attempts are used up. `attempt` receives whether an earlier attempt was made (its outcome may then be
 * unknown: an export must find out before it sends again).
 */
export async function withRetries<T>(ctx: StepContext, agent: Agent, object: string, what: string, attempt: (retry: boolean) => Promise<T>): Promise<T> {
  const { attempts, initialDelayMs, maxDelayMs } = ctx.config.safety.retry;
  let broken = false;
  let tries = 0;
  return pRetry(
    async () => {
      const retry = tries++ > 0;
      try {
        if (broken) {
          await agent.reconnect?.();
          broken = false;
        }
        return await attempt(retry);
      } catch (e) {
        if (e instanceof ServerDownError) broken = true;
        // p-retry retries every error it is given; only the ones that may pass are given to it.
        if (!isRetryable(e)) throw new AbortError(e as Error);
        throw e;
      }
    },
    {
      retries: attempts,
      minTimeout: initialDelayMs,
      maxTimeout: maxDelayMs,
      factor: 2,
      randomize: true,
      onFailedAttempt: async ({ error, retriesLeft }) => {
        if (retriesLeft === 0) return;
        const asked = error instanceof TransientError ? error.retryAfterMs : undefined;
        ctx.warning(
          object,
          undefined,
          'retried',
          `${what} failed (${error.message}); retrying (${retriesLeft} ${retriesLeft === 1 ? 'attempt' : 'attempts'} left)${asked ? ` after the ${asked < 1000 ? `${asked} ms` : `${Math.ceil(asked / 1000)} s`} the server asked for` : ''}`,
        );
        // The server's own wait comes first; p-retry's backoff is added after it.
        if (asked) await sleep(Math.min(asked, maxDelayMs));
      },
    },
  ); // p-retry rethrows an AbortError's original error
}
