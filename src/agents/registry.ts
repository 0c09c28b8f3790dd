/** Builds the configured agents. The only place that knows which class serves which agent type. */
import type { LoadedConfig } from '../config/load.js';
import { AdLdapAgent } from './ad-ldap/agent.js';
import { DominoLdapAgent } from './domino-ldap/agent.js';
import { ExoContactsAgent } from './exo/agent.js';
import { GraphAgent } from './graph/agent.js';
import { LdifAgent } from './ldif/agent.js';
import type { Agent, AgentHooks } from './types.js';

export function createAgent(loaded: LoadedConfig, name: string, hooks: AgentHooks = {}): Agent {
  const config = loaded.config.agents[name];
  if (!config) throw new Error(`no agent named "${name}" in ${loaded.file}`);
  const settings = { agent: name, password: loaded.secrets.get(name), path: loaded.path };
  const retry = loaded.config.safety.retry;
  switch (config.type) {
    case 'domino-ldap':
      return new DominoLdapAgent(name, config, { ...settings, config });
    case 'ad-ldap':
      return new AdLdapAgent(name, config, { ...settings, config });
    case 'ldif':
      return new LdifAgent(name, config, loaded.path(config.file), config.changesFile ? loaded.path(config.changesFile) : undefined);
    case 'graph':
      return new GraphAgent(name, config, loaded.secrets.get(name) ?? '', retry, hooks);
    case 'exo-contacts':
      return new ExoContactsAgent(name, config, loaded.secrets.get(name) ?? '', retry, hooks);
  }
}
