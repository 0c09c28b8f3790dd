/** The configuration the Microsoft Entra ID agent types share: the app, its one credential, the authority. */
import { z } from 'zod';
import { httpsUrl, secretRef } from '../../util/config-fields.js';
import type { ExoContactsAgentConfig } from '../exo/descriptor.js';
import type { GraphAgentConfig } from '../graph/descriptor.js';

/**
 * App-only sign-in to Microsoft Entra ID (client credentials): a client secret or a certificate (a PEM
 * holding the private key and the certificate), each from the environment or a file, never inline.
 */
export const entraFields = {
  tenantId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: secretRef.optional(),
  certificate: secretRef.optional(),
  /** login.microsoftonline.com; national clouds: login.microsoftonline.us, login.chinacloudapi.cn. */
  authorityHost: httpsUrl.default('https://login.microsoftonline.com'),
  timeoutMs: z.number().int().min(1000).default(60_000),
};
export const oneCredential = (a: { clientSecret?: unknown; certificate?: unknown }, ctx: z.RefinementCtx): void => {
  if ((a.clientSecret === undefined) === (a.certificate === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['clientSecret'],
      message: 'give exactly one of clientSecret or certificate (each as { env: NAME } or { file: PATH })',
    });
  }
};

/** Where an Entra agent's one secret is: the client secret, or the certificate's PEM. */
export function entraSecret(c: {
  clientSecret?: z.infer<typeof secretRef> | undefined;
  certificate?: z.infer<typeof secretRef> | undefined;
}): { key: string; ref: z.infer<typeof secretRef> } | undefined {
  if (c.clientSecret) return { key: 'clientSecret', ref: c.clientSecret };
  return c.certificate ? { key: 'certificate', ref: c.certificate } : undefined;
}

export type EntraAgentConfig = GraphAgentConfig | ExoContactsAgentConfig;
