/** Reads dirbridge.yaml, validates it and resolves paths and secrets before anything connects. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { configSchema, type DirbridgeConfig, type SecretRef } from './schema.js';

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

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [`cannot read the file: ${(e as Error).message}; pass --config PATH`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) throw new ConfigError(abs, doc.errors.map((e) => `YAML: ${e.message}`));
  const parsed = configSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new ConfigError(abs, formatZodIssues(parsed.error));
  const config = parsed.data;
  const dir = dirname(abs);
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));

  const secrets = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, agent] of Object.entries(config.agents)) {
    // One secret per agent: an LDAP bind password, or an Entra app's client secret or certificate PEM.
    const [key, ref] = agent.type === 'ldif' ? [] : agent.type === 'graph' || agent.type === 'exo-contacts' ? (agent.clientSecret ? ['clientSecret', agent.clientSecret] : ['certificate', agent.certificate]) : ['password', agent.password];
    if (!key || !ref) continue;
    const got = readSecret(ref, env, path);
    if ('error' in got) problems.push(`agents.${name}.${key}: ${got.error}`);
    else secrets.set(name, got.value);
  }
  if (problems.length) throw new ConfigError(abs, problems);
  return { file: abs, dir, config, secrets, path };
}

export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv, path: (p: string) => string): { value: string } | { error: string } {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') return { error: `environment variable ${ref.env} is not set; export it before running dirbridge` };
    return { value: v };
  }
  try {
    const v = readFileSync(path(ref.file), 'utf8').replace(/\r?\n$/, '');
    if (v === '') return { error: `secret file ${path(ref.file)} is empty` };
    return { value: v };
  } catch (e) {
    return { error: `cannot read secret file ${path(ref.file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}
