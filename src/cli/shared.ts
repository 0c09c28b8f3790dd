/** What the commands share: the config, the read-only store, argument checks, the logger. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { agentConfigOf } from '../engine/agents.js';
import { Store } from '../metaverse/store.js';
import { createLogger, type LogLevel } from './observers.js';

/** A mistake in how the command was called (exit 64). */
export class UsageError extends Error {}

/** The config the command line names (--config). */
export function configOf(program: Command): () => LoadedConfig {
  return () => loadConfig(program.opts<{ config: string }>().config);
}

/** The metaverse for a read-only command; before the first run there is nothing to read. */
export function openReadOnly(loaded: LoadedConfig, emptyMeaning: string): Store {
  const file = loaded.path(loaded.config.metaverse.file);
  if (!existsSync(file)) throw new UsageError(`no metaverse at ${file} yet: ${emptyMeaning} (run the initial profile first)`);
  return Store.open(file, { readonly: true });
}

export function requireAgent(loaded: LoadedConfig, agent: string): void {
  agentConfigOf(loaded, agent);
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

/** The run's logger: the config's file, and stderr at --log-level, DIRBRIDGE_LOG_LEVEL, logging.stderrLevel, or by terminal. */
export function loggerFor(loaded: LoadedConfig, flag?: string): Logger {
  const { logging } = loaded.config;
  const chosen = flag ?? process.env.DIRBRIDGE_LOG_LEVEL ?? logging.stderrLevel ?? (process.stderr.isTTY ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(chosen as LogLevel)) throw new UsageError(`log level "${chosen}" is not one of ${LOG_LEVELS.join(', ')}`);
  const file = logging.file ? loaded.path(logging.file) : undefined;
  try {
    return createLogger({ ...(file ? { file } : {}), fileLevel: logging.level, stderrLevel: chosen as LogLevel });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(loaded.file, [`logging.file: cannot open ${file} for appending (${code}); create its folder, or give a path dirbridge may write`]);
  }
}
