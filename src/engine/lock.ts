/**
 * One run at a time per metaverse: a lock file next to the store, created exclusively. A lock left by
 * a process that no longer exists (killed, power loss) is taken over; a live one makes this run exit
 * at once without touching anything.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class LockedError extends Error {
  constructor(readonly file: string, holder: string) {
    super(`another dirbridge run holds ${file} (${holder}); this run did nothing. Cron: exit code 75 means try again later`);
    this.name = 'LockedError';
  }
}

export interface RunLock {
  release(): void;
}

export function acquireRunLock(storeFile: string, what: string): RunLock {
  const file = `${storeFile}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, what, since: new Date().toISOString() }));
      closeSync(fd);
      return { release: () => unlinkSync(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(file);
      if (holder && isAlive(holder.pid)) throw new LockedError(file, `pid ${holder.pid}, ${holder.what}, since ${holder.since}`);
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new LockedError(file, 'taken again while this run was removing a stale lock');
}

function readHolder(file: string): { pid: number; what: string; since: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { pid: number; what: string; since: string };
  } catch {
    return undefined; // half-written by a process killed while writing it: stale
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
