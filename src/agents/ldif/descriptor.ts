/** The ldif agent type: a directory kept as an LDIF file (exports, tests, the quickstart). */
import { z } from 'zod';
import { attributeName } from '../../util/config-fields.js';
import { agentType } from '../descriptor.js';
import { LdifAgent } from './agent.js';

export const ldifAgentSchema = z
  .object({
    type: z.literal('ldif'),
    /** The content file imported (a missing file is an empty directory). */
    file: z.string(),
    /** Where exported changes are appended as LDIF change records. */
    changesFile: z.string().optional(),
    /** Also apply exported changes to `file`, so the file behaves like a directory. */
    applyChanges: z.boolean().default(false),
    anchor: attributeName,
    objectClasses: z.array(z.string()).default([]),
    baseDn: z.string().optional(),
    binaryAttributes: z.array(attributeName).default([]),
    /** Treat the anchor as an Active Directory GUID (16 bytes, Windows text form). */
    anchorIsGuid: z.boolean().default(false),
  })
  .strict();

export type LdifAgentConfig = z.infer<typeof ldifAgentSchema>;

export const ldif = agentType({
  type: 'ldif',
  schema: ldifAgentSchema,
  secret: () => undefined,
  // One file, written in order.
  exportConcurrency: () => 1,
  create: (c, env) => new LdifAgent(env.name, c, env.path(c.file), c.changesFile ? env.path(c.changesFile) : undefined),
});
