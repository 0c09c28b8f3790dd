/** The configured agents, made for a step: the registry's descriptors given what the loaded config holds for them. */
import type { AgentHooks, Agent } from '../agents/types.js';
import { createAgent, descriptorOf } from '../agents/registry.js';
import { ConfigError, type LoadedConfig } from '../config/load.js';

/** What is wrong with an agent's name the config lacks (undefined: the config has it); each caller says it in its own terms. */
export function unknownAgent(loaded: LoadedConfig, name: string): string | undefined {
  return loaded.config.agents[name] ? undefined : `no agent named "${name}" in ${loaded.file}; agents are: ${Object.keys(loaded.config.agents).join(', ')}`;
}

/** The config of an agent named in a profile or by the engine; a name the config lacks is a config error. */
export function agentConfigOf(loaded: LoadedConfig, name: string) {
  const problem = unknownAgent(loaded, name);
  if (problem) throw new ConfigError(loaded.file, [`agents: ${problem}`]);
  return loaded.config.agents[name]!;
}

export function openAgent(loaded: LoadedConfig, name: string, hooks: AgentHooks = {}): Agent {
  return createAgent(agentConfigOf(loaded, name), { name, secret: loaded.secrets.get(name), path: loaded.path, retry: loaded.config.safety.retry, hooks });
}

/** How many exports the agent sends at once. */
export function exportConcurrencyOf(loaded: LoadedConfig, name: string): number {
  const config = agentConfigOf(loaded, name);
  return descriptorOf(config).exportConcurrency(config);
}
