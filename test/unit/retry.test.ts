import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Agent, ObjectError, ServerDownError, TransientError } from '../../src/agents/types.js';
import { loadConfig } from '../../src/config/load.js';
import { StepContext } from '../../src/engine/context.js';
import { withRetries } from '../../src/engine/retry.js';
import { Store } from '../../src/metaverse/store.js';

const ROOT = resolve(import.meta.dirname, '../..');

function context(retry: { attempts: number; initialDelayMs: number; maxDelayMs: number }): StepContext {
  const loaded = loadConfig(join(ROOT, 'examples/quickstart/dirbridge.yaml'), {});
  loaded.config.safety.retry = retry;
  const store = Store.open(':memory:');
  const runId = store.startRun('test');
  return new StepContext(loaded, store, { runId, stepId: store.startStep(runId, 1, 'ad-contacts', 'export') }, 'ad-contacts');
}

function agent(): Agent & { reconnects: number } {
  const a = { name: 'ad-contacts', capabilities: new Set(), anchorAttribute: 'objectguid', reconnects: 0 } as unknown as Agent & { reconnects: number };
  a.reconnect = async () => {
    a.reconnects++;
  };
  return a;
}

describe('retries of transient failures', () => {
  it('retries a throttled request after the wait the server asked for, and reports each retry', async () => {
    const ctx = context({ attempts: 3, initialDelayMs: 1, maxDelayMs: 5 });
    let calls = 0;
    const started = Date.now();
    const result = await withRetries(ctx, agent(), 'cn=x', 'modify of cn=x', async (retry) => {
      calls++;
      expect(retry).toBe(calls > 1);
      if (calls < 3) throw new TransientError('ad-contacts', 'busy', 150);
      return 'done';
    });
    expect(result).toBe('done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 + 5); // the server's wait, capped by maxDelayMs
    expect(ctx.problems.map((p) => [p.severity, p.code])).toEqual([
      ['warning', 'retried'],
      ['warning', 'retried'],
    ]);
    expect(ctx.problems[0]!.message).toMatch(/modify of cn=x failed .*busy.*retrying \(3 attempts left\) after the 150 ms the server asked for/);
  });

  it('reconnects before retrying after a broken connection, and gives up after the attempts', async () => {
    const ctx = context({ attempts: 2, initialDelayMs: 1, maxDelayMs: 2 });
    const a = agent();
    let calls = 0;
    await expect(
      withRetries(ctx, a, 'ad-contacts', 'full import', async () => {
        calls++;
        throw new ServerDownError('ad-contacts', 'connection reset');
      }),
    ).rejects.toBeInstanceOf(ServerDownError);
    expect(calls).toBe(3);
    expect(a.reconnects).toBe(2);
    expect(ctx.problems).toHaveLength(2);
  });

  it('never retries what the directory refused for good', async () => {
    const ctx = context({ attempts: 3, initialDelayMs: 1, maxDelayMs: 2 });
    let calls = 0;
    await expect(
      withRetries(ctx, agent(), 'cn=x', 'add of cn=x', async () => {
        calls++;
        throw new ObjectError('cn=x', 'mail', 'constraint violation');
      }),
    ).rejects.toBeInstanceOf(ObjectError);
    expect(calls).toBe(1);
    expect(ctx.problems).toEqual([]);
  });
});
