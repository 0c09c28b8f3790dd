/** MIM's run status words, and the exit codes cron sees. Documented in the README; keep them stable. */
export type RunStatus = 'success' | 'completed-warnings' | 'completed-errors' | 'stopped-server-down' | 'stopped-error';

export const EXIT_CODES = {
  success: 0,
  'completed-warnings': 1,
  'completed-errors': 2,
  'stopped-server-down': 3,
  'stopped-error': 4,
  usage: 64,
  config: 78,
} as const;

const SEVERITY: Record<RunStatus, number> = { success: 0, 'completed-warnings': 1, 'completed-errors': 2, 'stopped-server-down': 3, 'stopped-error': 4 };

export function worst(a: RunStatus, b: RunStatus): RunStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

export function isStopped(s: RunStatus): boolean {
  return s.startsWith('stopped-');
}
