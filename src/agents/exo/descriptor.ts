/** The exo-contacts agent type: Exchange Online mail contacts through its admin REST endpoint. */
import { z } from 'zod';
import { httpsUrl } from '../../util/config-fields.js';
import { agentType } from '../descriptor.js';
import { entraFields, entraSecret, oneCredential } from '../entra/config.js';
import { ExoContactsAgent } from './agent.js';

export const exoContactsAgentSchema = z
  .object({
    type: z.literal('exo-contacts'),
    ...entraFields,
    /** Exchange Online's admin REST endpoint (beta, undocumented): https://outlook.office365.com. */
    adminUrl: httpsUrl.default('https://outlook.office365.com'),
    /** The pseudo-DN under which contacts appear in the connector space (Exchange Online has no DNs). */
    baseDn: z.string().default('OU=Contacts,DC=exchange-online'),
    exportConcurrency: z.number().int().min(1).max(8).default(2),
  })
  .strict()
  .superRefine(oneCredential);

export type ExoContactsAgentConfig = z.infer<typeof exoContactsAgentSchema>;

export const exoContacts = agentType({
  type: 'exo-contacts',
  schema: exoContactsAgentSchema,
  secret: entraSecret,
  exportConcurrency: (c) => c.exportConcurrency,
  create: (c, env) => new ExoContactsAgent(env.name, c, env.secret ?? '', env.retry, env.hooks),
});
