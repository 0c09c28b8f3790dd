/** The configured agents, made for a step: the registry's descriptors given what the loaded config holds for them. */
import type { AgentHooks, Agent } from '../agents/types.js';
import { createAgent, descriptorOf } from '../agents/registry.js';
import type { LoadedConfig } from '../config/load.js';

export class UnknownAgentError extends Error {}

function configOf(loaded: LoadedConfig, name: string) {
  const config = loaded.config.agents[name];
  if (!config) throw new UnknownAgentError(`agents: no agent named "${name}" in ${loaded.file}; agents are: ${Object.keys(loaded.config.agents).join(', ')}`);
  return config;
}

export function openAgent(loaded: LoadedConfig, name: string, hooks: AgentHooks = {}): Agent {
  return createAgent(configOf(loaded, name), { name, secret: loaded.secrets.get(name), path: loaded.path, retry: loaded.config.safety.retry, hooks });
}

/** How many exports the agent sends at once. */
export function exportConcurrencyOf(loaded: LoadedConfig, name: string): number {
  const config = configOf(loaded, name);
  return descriptorOf(config).exportConcurrency(config);
}
