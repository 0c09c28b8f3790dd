/** Config fields several rooms share: secrets, TLS, attribute names, https origins. Zod schemas, no I/O. */
import { z } from 'zod';

export const secretRef = z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()], {
  error:
    'a secret is never written in the config file: give { env: NAME } (an environment variable) or { file: PATH } (a file only its owner can read, mode 0600)',
});

export const tlsOptions = z
  .object({
    caFile: z.string().optional(),
    /** Turning verification off is possible for a lab, never the default. */
    rejectUnauthorized: z.boolean().default(true),
    startTls: z.boolean().default(false),
    serverName: z.string().optional(),
  })
  .strict()
  .default({ rejectUnauthorized: true, startTls: false });

export const attributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an LDAP attribute name (letters, digits, hyphen)');

export const httpsUrl = z.string().regex(/^https:\/\/[^/\s]+\/?$/, 'an https:// origin, e.g. https://graph.microsoft.com');

export type SecretRef = z.infer<typeof secretRef>;
