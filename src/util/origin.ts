/** Who is starting a run on this machine: the user (sudo's caller when run through sudo), host and process. */
import { hostname, userInfo } from 'node:os';
import type { RunOrigin } from '../model/objects.js';

export function runOrigin(trigger: RunOrigin['trigger'], command: string): RunOrigin {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers).
    user = `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = process.env.SUDO_USER;
  return { trigger, user: sudo && sudo !== user ? `${user} (sudo by ${sudo})` : user, host: hostname(), pid: process.pid, command };
}

/** A run started from this command line: its arguments are what it was asked (dirbridge takes no secret as an argument). */
export function commandLineOrigin(): RunOrigin {
  return runOrigin('command line', process.argv.slice(2).join(' '));
}
