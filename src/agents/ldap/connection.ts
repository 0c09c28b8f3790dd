/** Opens an ldapts client as configured: LDAPS or StartTLS, certificates verified unless told otherwise. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { LdapAgentConfig } from './config.js';
import { ServerDownError } from '../types.js';
import { isInvalidCredentials } from './results.js';

export interface ConnectionSettings {
  agent: string;
  config: LdapAgentConfig;
  password: string | undefined;
  /** Resolves a path from the config file (CA file). */
  path: (p: string) => string;
}

export function tlsOptions(s: ConnectionSettings): ConnectionOptions {
  const t = s.config.tls;
  const opts: ConnectionOptions = { rejectUnauthorized: t.rejectUnauthorized, minVersion: 'TLSv1.2' };
  if (t.caFile) opts.ca = readFileSync(s.path(t.caFile));
  if (t.serverName) opts.servername = t.serverName;
  return opts;
}

/** Network failures mean the server is unavailable; LDAP result codes are about the request. */
export function isConnectionFailure(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException & { code?: unknown };
  if (typeof err?.code === 'string') return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(err.code);
  const msg = String(err?.message ?? '');
  return /connection (closed|timeout|refused)|socket|timeout|ECONN|not connected/i.test(msg) && typeof err?.code !== 'number';
}

export async function connect(s: ConnectionSettings): Promise<Client> {
  const { config } = s;
  const tls = config.url.startsWith('ldaps:') || config.tls.startTls ? tlsOptions(s) : undefined;
  const client = new Client({
    url: config.url,
    timeout: config.timeoutMs,
    connectTimeout: Math.min(config.timeoutMs, 15_000),
    ...(config.url.startsWith('ldaps:') ? { tlsOptions: tls } : {}),
  });
  try {
    if (config.tls.startTls) {
      if (config.url.startsWith('ldaps:')) throw new Error('startTls is for ldap:// URLs; ldaps:// is already encrypted');
      await client.startTLS(tls);
    }
    if (config.bindDn) await client.bind(config.bindDn, s.password ?? '');
  } catch (e) {
    await client.unbind().catch(() => undefined);
    const err = e as Error & { code?: unknown };
    if (isConnectionFailure(e)) throw new ServerDownError(s.agent, `${config.url}: ${err.message}`);
    if (/altnames|does not match certificate|ERR_TLS_CERT_ALTNAME_INVALID/i.test(`${err.message} ${String(err.code ?? '')}`)) {
      throw new ServerDownError(
        s.agent,
        `${config.url}: the server's certificate is not issued for this host name (${err.message}); connect by the name the certificate carries, or set tls.serverName to it`,
      );
    }
    if (/certificate|self.signed|unable to verify|CERT_/i.test(err.message) || (typeof err.code === 'string' && /CERT|SELF_SIGNED/.test(err.code))) {
      throw new ServerDownError(
        s.agent,
        `${config.url}: TLS certificate not trusted (${err.message}); set tls.caFile to the CA that signed the server certificate`,
      );
    }
    if (isInvalidCredentials(e))
      throw new ServerDownError(s.agent, `bind as "${config.bindDn}" refused: invalid credentials (check the password reference in the config)`);
    throw new ServerDownError(s.agent, `${config.url}: ${err.message}`);
  }
  return client;
}
