/** MIM's run status words, and the exit codes cron sees. Documented in the README and docs/safety.md; keep them stable. */
export type RunStatus =
  | 'success'
  | 'completed-warnings'
  | 'completed-errors'
  | 'stopped-server-down'
  | 'stopped-error'
  | 'stopped-deletion-threshold-exceeded'
  | 'stopped-import-shrunk'
  | 'stopped-error-limit'
  | 'stopped-object-limit'
  /** Stopped by SIGINT or SIGTERM between pages or batches; also what the next run records for a run that died unrecorded. */
  | 'stopped-interrupted';

export const EXIT_CODES = {
  success: 0,
  'completed-warnings': 1,
  'completed-errors': 2,
  'stopped-server-down': 3,
  'stopped-error': 4,
  'stopped-deletion-threshold-exceeded': 5,
  'stopped-import-shrunk': 6,
  'stopped-error-limit': 7,
  'stopped-object-limit': 8,
  /** 128 + SIGINT, what a shell reports for Ctrl-C. */
  'stopped-interrupted': 130,
  usage: 64,
  /** What a read-only command was asked to show is not there: an object, a run (EX_NOINPUT). */
  'not-found': 66,
  /** The metaverse file cannot be used: damaged, emptied, a folder, or its folder missing (EX_IOERR). */
  store: 74,
  /** Another run holds the metaverse (EX_TEMPFAIL): try again later. */
  locked: 75,
  config: 78,
} as const;

const SEVERITY: Record<RunStatus, number> = {
  success: 0,
  'completed-warnings': 1,
  'completed-errors': 2,
  'stopped-server-down': 3,
  'stopped-deletion-threshold-exceeded': 3,
  'stopped-import-shrunk': 3,
  'stopped-error-limit': 3,
  'stopped-object-limit': 3,
  'stopped-interrupted': 3,
  'stopped-error': 4,
};

export function worst(a: RunStatus, b: RunStatus): RunStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

export function isStopped(s: RunStatus): boolean {
  return s.startsWith('stopped-');
}

/** A guard stopped the step on purpose; the run ends with this status and nothing unsafe was written. */
export class StepStoppedError extends Error {
  constructor(
    readonly status: RunStatus,
    message: string,
  ) {
    super(message);
    this.name = 'StepStoppedError';
  }
}
