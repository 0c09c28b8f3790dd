/** The ad-ldap agent type: Active Directory over LDAP (mailbox users in, mail-enabled contacts out). */
import { z } from 'zod';
import { attributeName } from '../../util/config-fields.js';
import { agentType } from '../descriptor.js';
import { deltaSettings, ldapAgentFields } from '../ldap/config.js';
import { AdLdapAgent } from './agent.js';

export const adAgentSchema = z
  .object({
    type: z.literal('ad-ldap'),
    ...ldapAgentFields,
    anchor: attributeName.default('objectGUID'),
    binaryAttributes: z.array(attributeName).default(['objectGUID', 'msExchMailboxGuid']),
    delta: deltaSettings(['dirsync', 'usn', 'accesslog', 'timestamp'], 'dirsync'),
  })
  .strict();

export type AdLdapAgentConfig = z.infer<typeof adAgentSchema>;

export const adLdap = agentType({
  type: 'ad-ldap',
  schema: adAgentSchema,
  secret: (c) => (c.password ? { key: 'password', ref: c.password } : undefined),
  exportConcurrency: (c) => c.exportConcurrency,
  create: (c, env) => new AdLdapAgent(env.name, c, { agent: env.name, password: env.secret, path: env.path, config: c }),
});
