/**
 * The per-agent view (MIM's Connectors tab) as the CLI's `agents` and the web view's Agents page show
 * it: the store's statistics of each agent, its type, and its next scheduled run; and the same as one
 * flat row per agent for a spreadsheet.
 */
import type { LoadedConfig } from '../config/load.js';
import type { AgentStatistics, Inspector } from '../metaverse/inspect.js';
import { nextScheduledRuns } from './scheduler.js';

export type AgentView = AgentStatistics & { type: string; nextRun: { profile: string; at: string } | null };

export function agentView(loaded: LoadedConfig, inspector: Inspector, agents: readonly string[] = Object.keys(loaded.config.agents)): AgentView[] {
  const next = nextScheduledRuns(loaded);
  return inspector.agentStatistics(agents).map((s) => ({ ...s, type: loaded.config.agents[s.agent]!.type, nextRun: next.get(s.agent) ?? null }));
}

/** One agent as a CSV line. */
export function agentRow(s: AgentView): Record<string, string | number> {
  return {
    agent: s.agent,
    type: s.type,
    objects: s.objects,
    connectors: s.connectors,
    disconnectors: s.disconnectors,
    owned: s.owned,
    pendingImports: s.pendingImports,
    pendingAdds: s.pendingExports.add,
    pendingModifies: s.pendingExports.modify,
    pendingRenames: s.pendingExports.rename,
    pendingDeletes: s.pendingExports.delete,
    exportErrors: s.exportErrors,
    watermarkUpdatedAt: s.watermark?.updatedAt ?? '',
    watermarkAgeMinutes: s.watermark?.ageMinutes ?? '',
    lastFullImport: s.lastFullImport ?? '',
    lastStep: s.lastStep ? `${s.lastStep.stepType} ${s.lastStep.status} (run ${s.lastStep.runId})` : '',
    lastStepEnded: s.lastStep?.endedAt ?? '',
    lastRunProblems: s.lastRunProblems,
    nextRun: s.nextRun ? `${s.nextRun.at} (${s.nextRun.profile})` : '',
  };
}
