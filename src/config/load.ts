/** Reads dirbridge.yaml, validates it and resolves paths and secrets before anything connects. */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FilterParser } from 'ldapts';
import { parseDocument } from 'yaml';
import { parseDn } from '../util/dn.js';
import type { ZodError } from 'zod';
import { configSchema, type DirbridgeConfig, type LdapAgentConfig, type SecretRef } from './schema.js';
import { descriptorOf } from '../agents/registry.js';
import { expandGroupModes } from './group-modes.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`configuration error in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  file: string;
  dir: string;
  config: DirbridgeConfig;
  /** Agent name to its bind password, read from the environment or a file; never written anywhere. */
  secrets: Map<string, string>;
  /** Absolute path of a path written in the config (relative paths are relative to the config file). */
  path(p: string): string;
}

export function formatZodIssues(error: ZodError): string[] {
  return error.issues.map((i) => {
    const key = i.path.length ? i.path.join('.') : '(top level)';
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}: remove them or fix the spelling`;
    return `${key}: ${msg}`;
  });
}

/**
 * YAML text as plain data; a syntax error, or aliases that expand without bound (a "billion laughs"
 * file), is a ConfigError naming the file.
 */
export function parseYaml(file: string, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length)
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML: ${e.message}`),
    );
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError(file, [`YAML: ${(e as Error).message}; write the values out instead of repeating aliases`]);
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [`cannot read the file: ${(e as Error).message}; pass --config PATH`]);
  }
  // `groups: mirror` is laid out into agents and rules first, so that what it writes is checked as if written by hand.
  const expanded = expandGroupModes(parseYaml(abs, text));
  if (expanded.problems.length) throw new ConfigError(abs, expanded.problems);
  const parsed = configSchema.safeParse(expanded.config);
  if (!parsed.success) throw new ConfigError(abs, formatZodIssues(parsed.error));
  const config = parsed.data;
  const dir = dirname(abs);
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));

  const secrets = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, agent] of Object.entries(config.agents)) {
    // One secret per agent (an LDAP bind password, an Entra app's client secret or certificate PEM): its type's descriptor says where.
    const secret = descriptorOf(agent).secret(agent);
    if (!secret) continue;
    const got = readSecret(secret.ref, env, path);
    if ('error' in got) problems.push(`agents.${name}.${secret.key}: ${got.error}`);
    else secrets.set(name, got.value);
  }
  for (const [name, agent] of Object.entries(config.agents)) {
    const caFile = 'tls' in agent ? agent.tls.caFile : undefined;
    if (caFile) {
      const problem = caFileProblem(path(caFile));
      if (problem) problems.push(`agents.${name}.tls.caFile: ${problem}`);
    }
  }
  for (const [name, agent] of Object.entries(config.agents)) {
    if (agent.type === 'domino-ldap' || agent.type === 'ad-ldap') problems.push(...ldapAgentProblems(name, agent));
  }
  const attributes = new Set(Object.values(config.metaverse.objectTypes).flatMap((t) => t.attributes));
  for (const attr of Object.keys(config.metaverse.precedence)) {
    if (!attributes.has(attr))
      problems.push(`metaverse.precedence.${attr}: "${attr}" is not an attribute of any metaverse object type (${[...attributes].join(', ')})`);
  }
  // Whoever can change the config can point an agent at a server of their own and receive its password.
  const mode = statSync(abs).mode & 0o777;
  if (mode & 0o002)
    problems.push(
      `(file): ${abs} can be written by anyone (mode ${mode.toString(8).padStart(4, '0')}), who could point an agent at their own server and receive its password; run chmod o-w ${abs}`,
    );
  if (problems.length) throw new ConfigError(abs, problems);
  return { file: abs, dir, config, secrets, path };
}

/** Why a CA file cannot be used to verify a server, if it cannot: checked before anything connects. */
function caFileProblem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the path of the PEM file of the CA that signed the server's certificate`;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    return `${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); convert a DER file with: openssl x509 -inform der -in FILE -out ca.pem`;
  return undefined;
}

export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv, path: (p: string) => string): { value: string } | { error: string } {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') return { error: `environment variable ${ref.env} is not set; export it before running dirbridge` };
    return { value: v };
  }
  try {
    const file = path(ref.file);
    // A secret others may read is a secret already shared: refused, as ssh refuses a loose key.
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077)
      return { error: `secret file ${file} can be read or written by others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${file}` };
    const v = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (v === '') return { error: `secret file ${file} is empty` };
    return { value: v };
  } catch (e) {
    return { error: `cannot read secret file ${path(ref.file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

const LOOPBACK = /^ldap:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/i;

/** What an LDAP agent's settings get wrong, found before anything connects. */
function ldapAgentProblems(name: string, agent: LdapAgentConfig): string[] {
  const problems: string[] = [];
  for (const [key, dn] of [
    ['bindDn', agent.bindDn],
    ['baseDn', agent.baseDn],
  ] as const) {
    if (dn === undefined) continue;
    try {
      if (!parseDn(dn).length) throw new Error('it is empty');
    } catch (e) {
      problems.push(`agents.${name}.${key}: "${dn}" is not a DN (${(e as Error).message}); write it as cn=...,o=... (RFC 4514)`);
    }
  }
  const filterProblem = ldapFilterProblem(agent.filter);
  if (filterProblem) problems.push(`agents.${name}.filter: "${agent.filter}" is not an LDAP filter: ${filterProblem}`);
  // A simple bind over plain LDAP sends the password in clear; on loopback it never leaves the host.
  if (agent.url.startsWith('ldap://') && !agent.tls.startTls && !LOOPBACK.test(agent.url)) {
    problems.push(
      `agents.${name}.url: ${agent.url} is plain LDAP, which would send the bind password and the directory's data across the network in clear; use ldaps://host:636, or keep ldap:// and set tls.startTls: true`,
    );
  }
  return problems;
}

/** Why a search filter is not one, if it is not (RFC 4515; the parser dirbridge uses is lenient). */
export function ldapFilterProblem(filter: string): string | undefined {
  if (!filter.startsWith('(') || !filter.endsWith(')')) return 'it must be enclosed in parentheses';
  let depth = 0;
  for (const ch of filter) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return 'a ")" closes nothing (a parenthesis in a value is written \\29)';
  }
  if (depth !== 0) return `${depth} "(" not closed`;
  try {
    FilterParser.parseString(filter);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
