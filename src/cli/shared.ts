/** What the commands share: the config, the read-only store, argument checks, the logger. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { Store } from '../metaverse/store.js';
import { parseTime } from '../util/time.js';
import { unknownAgent } from '../engine/agents.js';
import { createLogger, type LogLevel } from './observers.js';

/** A mistake in how the command was called (exit 64). */
export class UsageError extends Error {}

/** What the command was asked to show is not there: an object, a run (exit 66, EX_NOINPUT). */
export class NotFoundError extends Error {}

/** Where dirbridge looks for its config when neither --config nor DIRBRIDGE_CONFIG names one. */
export const SYSTEM_CONFIG = '/etc/dirbridge/dirbridge.yaml';

/**
 * The config file: --config, else DIRBRIDGE_CONFIG, else ./dirbridge.yaml, else the system one. The
 * first two are taken as given (a wrong path is an error naming it); the other two only if they exist.
 */
export function discoverConfig(o: { flag?: string | undefined; env?: string | undefined; cwd?: string; systemFile?: string }): string {
  if (o.flag) return o.flag;
  if (o.env) return o.env;
  const local = resolve(o.cwd ?? process.cwd(), 'dirbridge.yaml');
  const system = o.systemFile ?? SYSTEM_CONFIG;
  for (const candidate of [local, system]) if (existsSync(candidate)) return candidate;
  throw new ConfigError(local, [`no config found (looked for ${local} and ${system}): give --config FILE or set DIRBRIDGE_CONFIG`]);
}

/** The config the command line names, or the one discovered. */
export function configOf(program: Command): () => LoadedConfig {
  return () => loadConfig(discoverConfig({ flag: program.opts<{ config?: string }>().config, env: process.env.DIRBRIDGE_CONFIG }));
}

/** The metaverse for a read-only command; before the first run there is nothing to read. */
export function openReadOnly(loaded: LoadedConfig, emptyMeaning: string): Store {
  const file = loaded.path(loaded.config.metaverse.file);
  if (!existsSync(file)) throw new UsageError(`no metaverse at ${file} yet: ${emptyMeaning} (run the initial profile first)`);
  return Store.open(file, { readonly: true });
}

/** An agent named on the command line: one the config lacks is a mistake in the call (exit 64). */
export function requireAgent(loaded: LoadedConfig, agent: string): void {
  const problem = unknownAgent(loaded, agent);
  if (problem) throw new UsageError(problem);
}

/** The store for a read-only command, closed when the command is done. */
export function withStoreOf(config: () => LoadedConfig): <T>(fn: (store: Store, loaded: LoadedConfig) => T) => T {
  return (fn) => {
    const loaded = config();
    const store = openReadOnly(loaded, 'there is nothing to show');
    try {
      return fn(store, loaded);
    } finally {
      store.close();
    }
  };
}

export function parseWhole(option: string, value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} takes ${what} (0 or more), not "${value}"`);
  return Number(value);
}

export function parseRunId(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`a run is given by its number (dirbridge history lists them), not "${value}"`);
  return Number(value);
}

/** --since and --until: see parseTime; a value it cannot read is a mistake in the call. */
export function parseTimeOption(option: string, value: string): string {
  try {
    return parseTime(option, value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseLimit(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`--limit takes a number of objects (1 or more), not "${value}"`);
  return Number(value);
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--allow-deletes takes a number of deletions, not "${value}"`);
  return Number(value);
}

const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Text for a person at a terminal, JSON for files, pipes and journals; DIRBRIDGE_LOG_FORMAT=json|text chooses. */
function stderrLogFormat(): 'json' | 'text' {
  const chosen = process.env.DIRBRIDGE_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'text') return chosen;
  if (chosen) throw new UsageError(`DIRBRIDGE_LOG_FORMAT is json or text, not "${chosen}"`);
  return process.stderr.isTTY ? 'text' : 'json';
}

/** The run's logger: the config's file, and stderr at --log-level, DIRBRIDGE_LOG_LEVEL, logging.stderrLevel, or by terminal. */
export function loggerFor(loaded: LoadedConfig, flag?: string): Logger {
  const { logging } = loaded.config;
  const chosen = flag ?? process.env.DIRBRIDGE_LOG_LEVEL ?? logging.stderrLevel ?? (process.stderr.isTTY ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(chosen as LogLevel)) throw new UsageError(`log level "${chosen}" is not one of ${LOG_LEVELS.join(', ')}`);
  const file = logging.file ? loaded.path(logging.file) : undefined;
  const stderrFormat = stderrLogFormat();
  try {
    return createLogger({ ...(file ? { file } : {}), fileLevel: logging.level, stderrLevel: chosen as LogLevel, stderrFormat });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(loaded.file, [`logging.file: cannot open ${file} for appending (${code}); create its folder, or give a path dirbridge may write`]);
  }
}
