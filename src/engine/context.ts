/** What every step of a run shares: the configuration, the store, and where it records problems. */
import type { ObjectError } from '../agents/types.js';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../metaverse/store.js';
import { emptyStats, type StepRef, type StepStats } from '../metaverse/types.js';

export class StepContext {
  readonly stats: StepStats = emptyStats();
  readonly problems: { severity: 'error' | 'warning'; object: string; attribute?: string; code: string; message: string }[] = [];

  constructor(
    readonly loaded: LoadedConfig,
    readonly store: Store,
    readonly ref: StepRef,
    readonly agent: string,
  ) {}

  get config(): LoadedConfig['config'] {
    return this.loaded.config;
  }

  error(object: string, attribute: string | undefined, code: string, message: string): void {
    this.stats.errors++;
    this.record('error', object, attribute, code, message);
  }

  warning(object: string, attribute: string | undefined, code: string, message: string): void {
    this.stats.warnings++;
    this.record('warning', object, attribute, code, message);
  }

  objectError(e: ObjectError): void {
    this.error(e.object, e.attribute, e.code, e.problem);
  }

  private record(severity: 'error' | 'warning', object: string, attribute: string | undefined, code: string, message: string): void {
    const p = { severity, object, code, message, ...(attribute ? { attribute } : {}) };
    this.problems.push(p);
    this.store.recordError(this.ref, { agent: this.agent, ...p });
  }
}
