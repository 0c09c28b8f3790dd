/**
 * Every agent type dirbridge knows. Adding a type is a folder with its agent and its descriptor, and
 * its descriptor in the list below (docs/architecture.md).
 */
import { z } from 'zod';
import { adLdap } from './ad-ldap/descriptor.js';
import type { AgentDescriptor, AgentEnvironment } from './descriptor.js';
import { dominoLdap } from './domino-ldap/descriptor.js';
import { exoContacts } from './exo/descriptor.js';
import { graph } from './graph/descriptor.js';
import { ldif } from './ldif/descriptor.js';
import type { Agent } from './types.js';

/** Every agent type, one line each. */
const DESCRIPTORS = [dominoLdap, adLdap, ldif, graph, exoContacts] as const;

type SchemasOf<T extends readonly { schema: unknown }[]> = { -readonly [K in keyof T]: T[K]['schema'] };

/** An agent's block in dirbridge.yaml: one of the types, told apart by `type`. */
export const agentConfig = z.discriminatedUnion('type', DESCRIPTORS.map((d) => d.schema) as SchemasOf<typeof DESCRIPTORS>);
export type AgentConfig = z.infer<typeof agentConfig>;

/** The descriptor of a configured agent's type. */
export function descriptorOf(config: AgentConfig): AgentDescriptor<z.ZodType<AgentConfig>> {
  const d = DESCRIPTORS.find((x) => x.type === config.type);
  // The config schema admits only these types: a miss is a bug here, not a config error.
  if (!d) throw new Error(`agent type "${config.type}" has no descriptor in src/agents/registry.ts`);
  return d as unknown as AgentDescriptor<z.ZodType<AgentConfig>>;
}

export function createAgent(config: AgentConfig, env: AgentEnvironment): Agent {
  return descriptorOf(config).create(config, env);
}
