/** What every step of a run shares: the configuration, the store, and where it records problems. */
import type { ObjectError } from '../agents/types.js';
import type { LoadedConfig } from '../config/load.js';
import type { ObjectProblem, ProblemCode } from '../model/problems.js';
import type { Store } from '../metaverse/store.js';
import { emptyStats, type StepRef, type StepStats } from '../model/objects.js';
import { StepStoppedError } from './status.js';

/** What the steps of one run share: the error budget and the deletions the operator allowed. */
export interface RunState {
  errors: number;
  errorLimit: number;
  /** Deletions still allowed by --allow-deletes in this run (0 when not given). */
  allowDeletes: number;
  /** --staging: this run exports nothing. */
  staging?: boolean;
  /** Aborted (with the signal's name as reason) when the operator stops the run: Ctrl-C, SIGTERM. */
  interrupt?: AbortSignal | undefined;
}

/** One decision of the rules, as `dirbridge preview` shows it. */
export interface TraceLine {
  /** The object the decision is about (a connector DN, or an MV object's label). */
  object: string;
  /** The agent whose rules decided. */
  agent: string;
  /** scope, join, projection, import-flow, deletion, provisioning, address-conflict, export-flow, deprovisioning. */
  rule: string;
  decision: string;
}

export class StepContext {
  readonly stats: StepStats = emptyStats();
  /** Set by preview: receives every decision of the rules. Unset in runs, where explaining costs nothing. */
  tracer: ((line: TraceLine) => void) | undefined;
  /** Set by the runner: progress and problems as they happen, for logs and a progress bar. */
  onProgress: ((done: number, total?: number) => void) | undefined;
  onProblem: ((p: StepContext['problems'][number]) => void) | undefined;

  progress(done: number, total?: number): void {
    this.onProgress?.(done, total);
  }
  readonly problems: ObjectProblem[] = [];

  constructor(
    readonly loaded: LoadedConfig,
    readonly store: Store,
    readonly ref: StepRef,
    readonly agent: string,
    readonly run: RunState = { errors: 0, errorLimit: Number.POSITIVE_INFINITY, allowDeletes: 0 },
    /** The step's object limit (run profile `limit`, or --limit), when it has one. */
    readonly objectLimit?: number,
  ) {}

  /**
   * Called once `done` objects of `total` (when known) have been processed: at the limit, with work
   * left, the step stops. What was done is kept; what was not stays pending for the next run.
   */
  checkObjectLimit(done: number, what: string, total?: number): void {
    if (this.objectLimit === undefined || done < this.objectLimit || (total !== undefined && total <= done)) return;
    const left = total === undefined ? '' : `; ${total - done} left for the next run`;
    throw new StepStoppedError('stopped-object-limit', `the step reached its object limit after ${done} ${what} (limit ${this.objectLimit})${left}`);
  }

  get errorLimitReached(): boolean {
    return this.run.errors >= this.run.errorLimit;
  }

  /** The operator asked the run to stop (Ctrl-C, SIGTERM): steps stop at their next page or batch. */
  get interrupted(): boolean {
    return this.run.interrupt?.aborted === true;
  }

  /**
   * Called between pages and batches: past the run's error limit the step stops, and so it does when
   * the run was interrupted; what was written so far is committed and consistent.
   */
  checkErrorLimit(): void {
    if (this.interrupted) {
      throw new StepStoppedError(
        'stopped-interrupted',
        `interrupted by ${String(this.run.interrupt!.reason)}: what was done so far is kept, and the next run goes on from there`,
      );
    }
    if (this.errorLimitReached) {
      throw new StepStoppedError(
        'stopped-error-limit',
        `the run reached its error limit (${this.run.errorLimit} errors, safety.errorLimit); it stopped so that a systematic fault does not touch every object`,
      );
    }
  }

  /**
   * Runs fn as one unit for the step's counters and reports too: if it throws (its transaction rolled
   * back), they are put back as they were, and reports are passed on to listeners only once it succeeded.
   */
  allOrNothing<T>(fn: () => T): T {
    const stats = { ...this.stats };
    const problems = this.problems.length;
    const errors = this.run.errors;
    const listener = this.onProblem;
    const held: StepContext['problems'] = [];
    if (listener) this.onProblem = (p) => held.push(p);
    try {
      const result = fn();
      this.onProblem = listener;
      for (const p of held) listener?.(p);
      return result;
    } catch (e) {
      this.onProblem = listener;
      Object.assign(this.stats, stats);
      this.problems.length = problems;
      this.run.errors = errors;
      throw e;
    }
  }

  /**
   * Records why the rules decided something; the text is built only when someone listens. The
   * object may be given as a function too, when naming it costs a query (a metaverse object's label).
   */
  explain(object: string | (() => string), agent: string, rule: string, decision: () => string): void {
    if (this.tracer) this.tracer({ object: typeof object === 'string' ? object : object(), agent, rule, decision: decision() });
  }

  get config(): LoadedConfig['config'] {
    return this.loaded.config;
  }

  error(object: string, attribute: string | undefined, code: ProblemCode, message: string): void {
    this.stats.errors++;
    this.run.errors++;
    this.record('error', object, attribute, code, message);
  }

  warning(object: string, attribute: string | undefined, code: ProblemCode, message: string): void {
    this.stats.warnings++;
    this.record('warning', object, attribute, code, message);
  }

  objectError(e: ObjectError): void {
    this.error(e.object, e.attribute, e.code, e.problem);
  }

  private record(severity: 'error' | 'warning', object: string, attribute: string | undefined, code: ProblemCode, message: string): void {
    const p = { severity, object, code, message, ...(attribute ? { attribute } : {}) };
    this.problems.push(p);
    this.store.recordError(this.ref, { agent: this.agent, ...p });
    this.onProblem?.(p);
  }
}
