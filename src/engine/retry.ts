/**
 * Bounded retries with exponential backoff for failures that may pass: a directory that is busy or
 * throttling (TransientError) or a connection that broke (ServerDownError, after reconnecting). Every
 * retry is recorded as a warning, so a run that needed them never passes for a clean one; when the
 * attempts are used up the last error goes to the caller, which decides what it means for the step.
 */
import { type Agent, ServerDownError, TransientError } from '../agents/types.js';
import { retryMessage, withBackoff } from '../util/backoff.js';
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
  let broken = false;
  return withBackoff(
    ctx.config.safety.retry,
    {
      retryable: isRetryable,
      askedWaitMs: (e) => (e instanceof TransientError ? e.retryAfterMs : undefined),
      onRetry: (e, left, asked) => ctx.warning(object, undefined, 'retried', retryMessage(what, e, left, asked)),
    },
    async (n) => {
      try {
        if (broken) {
          await agent.reconnect?.();
          broken = false;
        }
        return await attempt(n > 0);
      } catch (e) {
        if (e instanceof ServerDownError) broken = true;
        throw e;
      }
    },
  );
}
