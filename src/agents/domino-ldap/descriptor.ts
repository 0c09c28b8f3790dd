/** The domino-ldap agent type: HCL Domino's Directory over LDAP (people in, Exchange contacts out). */
import { z } from 'zod';
import { attributeName } from '../../util/config-fields.js';
import { agentType } from '../descriptor.js';
import { deltaSettings, ldapAgentFields } from '../ldap/config.js';
import { DominoLdapAgent } from './agent.js';

export const dominoAgentSchema = z
  .object({
    type: z.literal('domino-ldap'),
    ...ldapAgentFields,
    anchor: attributeName.default('dominoUNID'),
    /** Stored value of MailSystem for "Other Internet Mail" on the target's Person form. */
    contactMailSystem: z.string().default('5'),
    binaryAttributes: z.array(attributeName).default([]),
    /** Domino has no change log: modification-time windows, and a deletion check (delta.deletions) in each delta import. */
    delta: deltaSettings(['timestamp', 'accesslog'], 'timestamp'),
  })
  .strict();

export type DominoLdapAgentConfig = z.infer<typeof dominoAgentSchema>;

export const dominoLdap = agentType({
  type: 'domino-ldap',
  schema: dominoAgentSchema,
  secret: (c) => (c.password ? { key: 'password', ref: c.password } : undefined),
  exportConcurrency: (c) => c.exportConcurrency,
  create: (c, env) => new DominoLdapAgent(env.name, c, { agent: env.name, password: env.secret, path: env.path, config: c }),
});
