/**
 * One run at a time per metaverse: a lock file next to the store, created exclusively. A lock left by
 * a process that no longer exists (killed, power loss) is taken over, also when its pid now belongs to
 * another process (after a reboot): the lock records when its process started. A live one makes this
 * run exit at once without touching anything.
 */
import { closeSync, lstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class LockedError extends Error {
  constructor(
    readonly file: string,
    holder: string,
  ) {
    super(`another dirbridge run holds ${file} (${holder}); this run did nothing. Cron: exit code 75 means try again later`);
    this.name = 'LockedError';
  }
}

/** The lock's path cannot hold a lock file (a folder stands there, or the folder is not writable). */
export class LockUnusableError extends Error {
  constructor(file: string, problem: string) {
    super(`the run lock ${file} ${problem} (dirbridge keeps its lock next to metaverse.file). Nothing was changed`);
    this.name = 'LockUnusableError';
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
      writeSync(fd, JSON.stringify({ pid: process.pid, started: startTime(process.pid), what, since: new Date().toISOString() }));
      closeSync(fd);
      return { release: () => unlinkSync(file) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new LockUnusableError(
          file,
          `cannot be created: the folder ${dirname(file)} does not exist; create the folder, or set metaverse.file to a path in one`,
        );
      if (code !== 'EEXIST') throw new LockUnusableError(file, `cannot be created (${code ?? (e as Error).message})`);
      if (lstatSync(file).isDirectory()) throw new LockUnusableError(file, 'is a folder; remove it');
      const holder = readHolder(file);
      if (holder && isAlive(holder.pid) && sameProcess(holder)) throw new LockedError(file, `pid ${holder.pid}, ${holder.what}, since ${holder.since}`);
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new LockedError(file, 'taken again while this run was removing a stale lock');
}

interface Holder {
  pid: number;
  /** When the process started (Linux: /proc/PID/stat, in clock ticks since boot); absent elsewhere. */
  started?: string;
  what: string;
  since: string;
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined; // half-written by a process killed while writing it: stale
  }
}

/** The process running under the holder's pid is the one that took the lock (not a later one that got its pid). */
function sameProcess(holder: Holder): boolean {
  if (holder.started === undefined) return true; // written where start times are not known: trust the pid
  const now = startTime(holder.pid);
  return now === undefined || now === holder.started;
}

/** A process's start time from /proc (field 22 of /proc/PID/stat), or undefined where there is no /proc. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
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
