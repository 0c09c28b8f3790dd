/**
 * Starts the one Samba AD DC the integration tests share (its ports are fixed) and hands its address
 * to the test files. It starts only when integration tests are in the run; a failure fails the run.
 */
import type { TestProject } from 'vitest/node';
import { startSamba, type SambaInfo } from './samba.js';

declare module 'vitest' {
  export interface ProvidedContext {
    samba: SambaInfo | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run');
  const wantsIntegration = filters.length === 0 || filters.some((f) => f.includes('integration'));
  if (!wantsIntegration) {
    project.provide('samba', null);
    return async () => undefined;
  }
  const samba = await startSamba();
  project.provide('samba', samba.info);
  return samba.stop;
}
