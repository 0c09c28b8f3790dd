/**
 * One agent type, described once (ConnId's connector with its own Configuration): the schema of its
 * block in dirbridge.yaml, where its one secret is, how many exports it sends at once, and how an
 * agent of the type is made. The config schema, the secret reading, the registry and the engine's
 * export concurrency are all built from these.
 */
import type { z } from 'zod';
import type { SecretRef } from '../util/config-fields.js';
import type { RetrySettings } from '../util/backoff.js';
import type { Agent, AgentHooks } from './types.js';

/** What the engine gives an agent it makes. */
export interface AgentEnvironment {
  /** The agent's name in the config. */
  name: string;
  /** Its secret, read from the environment or a file (undefined when it has none). */
  secret: string | undefined;
  /** Resolves a path written in the config file (relative to that file). */
  path: (p: string) => string;
  /** safety.retry: how requests the directory says are temporary are retried. */
  retry: RetrySettings;
  hooks: AgentHooks;
}

export interface AgentDescriptor<Schema extends z.ZodType<{ type: string }>> {
  /** The value of `type:` in the agent's config block. */
  readonly type: z.infer<Schema>['type'];
  readonly schema: Schema;
  /** The config key holding the agent's one secret and its reference, when it has one. */
  secret(config: z.infer<Schema>): { key: string; ref: SecretRef } | undefined;
  /** Exports in flight at once. */
  exportConcurrency(config: z.infer<Schema>): number;
  create(config: z.infer<Schema>, env: AgentEnvironment): Agent;
}

/** Declares a descriptor, keeping its schema's type (so the config union stays exact). */
export function agentType<Schema extends z.ZodType<{ type: string }>>(d: AgentDescriptor<Schema>): AgentDescriptor<Schema> {
  return d;
}
