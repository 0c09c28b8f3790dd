/**
 * One line per group of hostile cases at the end of the run: how many were tried and how many held.
 * A group is a top-level describe named "hostile: GROUP" in test/hostile/.
 */
import type { Reporter } from 'vitest/reporters';

type Task = { type: string; name: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

export default class HostileSummary implements Reporter {
  onFinished(files: Task[] = []): void {
    const groups = new Map<string, { tried: number; held: number }>();
    const count = (group: string, t: Task): void => {
      if (t.type === 'test') {
        if (t.mode === 'skip' || t.mode === 'todo') return;
        const g = groups.get(group) ?? { tried: 0, held: 0 };
        g.tried++;
        if (t.result?.state === 'pass') g.held++;
        groups.set(group, g);
      }
      for (const c of t.tasks ?? []) count(group, c);
    };
    for (const f of files)
      for (const top of f.tasks ?? []) {
        const m = /^hostile: (.+)$/.exec(top.name);
        if (m) count(m[1]!, top);
      }
    if (!groups.size) return;
    console.log('\nhostile cases:');
    for (const [group, g] of [...groups].sort())
      console.log(
        `  ${group.padEnd(26)} tried ${String(g.tried).padStart(3)}, held ${String(g.held).padStart(3)}${g.held < g.tried ? `  (${g.tried - g.held} FAILED)` : ''}`,
      );
  }
}
