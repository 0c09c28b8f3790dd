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
