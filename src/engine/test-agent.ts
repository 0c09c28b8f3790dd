/**
 * `dirbridge test-agent NAME`: is the agent usable as configured? Connects and signs in, then runs
 * the agent's own checks (ConnId's TestOp) or, for an agent that has none, reads the first page of
 * its view. Writes nothing, not even to the metaverse.
 */
import type { AgentCheck } from '../agents/types.js';
import type { LoadedConfig } from '../config/load.js';
import { agentConfigOf, openAgent } from './agents.js';

export interface AgentTestResult {
  agent: string;
  type: string;
  /** False when the agent could not connect or sign in: nothing else was checked. */
  connected: boolean;
  checks: AgentCheck[];
}

export async function testAgent(loaded: LoadedConfig, name: string): Promise<AgentTestResult> {
  const agent = openAgent(loaded, name);
  const type = agentConfigOf(loaded, name).type;
  try {
    await agent.open();
  } catch (e) {
    return { agent: name, type, connected: false, checks: [{ check: 'connect and sign in', ok: false, detail: (e as Error).message }] };
  }
  const checks: AgentCheck[] = [{ check: 'connect and sign in', ok: true, detail: 'connected and signed in' }];
  try {
    if (agent.test) checks.push(...(await agent.test()));
    else checks.push(await firstPage(agent.fullImport()));
  } catch (e) {
    checks.push({ check: 'read', ok: false, detail: (e as Error).message });
  } finally {
    await agent.close().catch(() => undefined);
  }
  return { agent: name, type, connected: true, checks };
}

async function firstPage(pages: AsyncIterable<{ objects: unknown[]; errors: { message: string }[] }>): Promise<AgentCheck> {
  for await (const page of pages) {
    const errors = page.errors.length ? `; ${page.errors.length} could not be read, the first: ${page.errors[0]!.message}` : '';
    return { check: 'read the first page of the view', ok: page.errors.length === 0, detail: `${page.objects.length} objects read${errors}` };
  }
  return { check: 'read the first page of the view', ok: true, detail: 'the view is empty' };
}
