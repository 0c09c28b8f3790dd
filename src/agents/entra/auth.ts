/**
 * App-only tokens from Microsoft Entra ID (OAuth 2.0 client credentials) through MSAL, which caches
 * them and renews them before they expire. A request the service refuses with 401 (a token expired
 * early, or revoked) asks for a fresh token once, bypassing the cache. Tokens are never logged.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node';
import type { EntraAgentConfig } from './config.js';
import { ServerDownError } from '../types.js';

export class EntraTokens {
  private readonly app: ConfidentialClientApplication;
  private refresh = false;

  constructor(
    private readonly agent: string,
    config: EntraAgentConfig,
    /** The client secret, or a PEM with the private key and the certificate. */
    secret: string,
    private readonly scope: string,
  ) {
    const host = new URL(config.authorityHost).host;
    const authority = `${new URL(config.authorityHost).origin}/${encodeURIComponent(config.tenantId)}`;
    this.app = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        authority,
        // The authority is the one configured (a national cloud, a test server): no instance discovery elsewhere.
        knownAuthorities: [host],
        // Entra's endpoints follow from the authority host: no discovery round trip (and none to the
        // public cloud when a national cloud or a test server is configured).
        authorityMetadata: JSON.stringify(endpoints(config.authorityHost, config.tenantId)),
        cloudDiscoveryMetadata: JSON.stringify({
          tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        }),
        ...(config.clientSecret ? { clientSecret: secret } : { clientCertificate: certificateCredential(agent, secret) }),
      },
      system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } },
    });
  }

  /** The next token request bypasses the cache (after a 401). */
  renew(): void {
    this.refresh = true;
  }

  async token(): Promise<string> {
    const skipCache = this.refresh;
    this.refresh = false;
    try {
      const result = await this.app.acquireTokenByClientCredential({ scopes: [this.scope], skipCache });
      if (!result?.accessToken) throw new Error('no access token in the answer');
      return result.accessToken;
    } catch (e) {
      const err = e as Error & { errorCode?: string };
      // Wrong tenant, client or secret are configuration problems; say which, without the secret.
      throw new ServerDownError(
        this.agent,
        `sign-in to Entra ID failed (${err.errorCode ?? err.name}): ${err.message.split('\n')[0]}; check tenantId, clientId and the client secret or certificate`,
      );
    }
  }
}

function endpoints(authorityHost: string, tenant: string): Record<string, string> {
  const base = `${new URL(authorityHost).origin}/${encodeURIComponent(tenant)}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    issuer: `${base}/v2.0`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  };
}

/** MSAL wants the private key and the certificate's SHA-256 thumbprint; both come from one PEM. */
function certificateCredential(agent: string, pem: string): { thumbprintSha256: string; privateKey: string; x5c: string } {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!cert || !/PRIVATE KEY-----/.test(pem))
    throw new ServerDownError(agent, 'the certificate secret must be a PEM holding both the private key and the certificate');
  const key = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { thumbprintSha256: new X509Certificate(cert).fingerprint256.replace(/:/g, ''), privateKey: key, x5c: cert };
}
