/** The graph agent type: Microsoft Graph users (Exchange Online mailboxes) or groups, read only. */
import { z } from 'zod';
import { httpsUrl } from '../../util/config-fields.js';
import { agentType } from '../descriptor.js';
import { entraFields, entraSecret, oneCredential } from '../entra/config.js';
import { GraphAgent } from './agent.js';

/** The Graph attributes a user is read with; $select is part of the delta token, so changing it means a new round. */
export const GRAPH_USER_SELECT = [
  'displayName',
  'givenName',
  'surname',
  'mail',
  'mailNickname',
  'proxyAddresses',
  'userPrincipalName',
  'jobTitle',
  'businessPhones',
  'accountEnabled',
];

/** The Graph attributes a group is read with (distribution lists, mail-enabled security and Microsoft 365 groups). */
export const GRAPH_GROUP_SELECT = ['displayName', 'mail', 'mailNickname', 'proxyAddresses', 'mailEnabled', 'securityEnabled', 'groupTypes', 'description'];

export const graphAgentSchema = z
  .object({
    type: z.literal('graph'),
    ...entraFields,
    /** https://graph.microsoft.com; national clouds: graph.microsoft.us, microsoftgraph.chinacloudapi.cn. */
    graphUrl: httpsUrl.default('https://graph.microsoft.com'),
    /** What the agent reads: users (/users/delta) or groups (/groups/delta; needs GroupMember.Read.All or Group.Read.All). */
    objects: z.enum(['users', 'groups']).default('users'),
    /** The properties read; by default GRAPH_USER_SELECT or GRAPH_GROUP_SELECT. */
    select: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'a Graph property name'))
      .min(1)
      .optional(),
    /**
     * How a user is known to have an Exchange Online mailbox: mailboxSettings (asked for each user a
     * round returns; exact; needs MailboxSettings.Read) or assignedPlans (an enabled Exchange plan; no extra
     * request, but a licence is not a mailbox).
     */
    mailboxDetection: z.enum(['mailboxSettings', 'assignedPlans']).default('mailboxSettings'),
    /** Requests in flight at once (mailbox checks); Graph throttles per app and tenant. */
    concurrency: z.number().int().min(1).max(16).default(4),
  })
  .strict()
  .superRefine(oneCredential);

export type GraphAgentConfig = z.infer<typeof graphAgentSchema>;

export const graph = agentType({
  type: 'graph',
  schema: graphAgentSchema,
  secret: entraSecret,
  exportConcurrency: () => 1,
  create: (c, env) => new GraphAgent(env.name, c, env.secret ?? '', env.retry, env.hooks),
});
