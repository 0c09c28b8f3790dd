/** The configured agents, made for a step: the registry's descriptors given what the loaded config holds for them. */
import type { AgentHooks, Agent } from '../agents/types.js';
import { createAgent, descriptorOf } from '../agents/registry.js';
import { ConfigError, type LoadedConfig } from '../config/load.js';

/** The config of an agent named on the command line or in a profile; a name the config lacks is a config error. */
export function agentConfigOf(loaded: LoadedConfig, name: string) {
  const config = loaded.config.agents[name];
  if (!config) throw new ConfigError(loaded.file, [`agents: no agent named "${name}"; agents are: ${Object.keys(loaded.config.agents).join(', ')}`]);
  return config;
}

export function openAgent(loaded: LoadedConfig, name: string, hooks: AgentHooks = {}): Agent {
  return createAgent(agentConfigOf(loaded, name), { name, secret: loaded.secrets.get(name), path: loaded.path, retry: loaded.config.safety.retry, hooks });
}

/** How many exports the agent sends at once. */
export function exportConcurrencyOf(loaded: LoadedConfig, name: string): number {
  const config = agentConfigOf(loaded, name);
  return descriptorOf(config).exportConcurrency(config);
}
