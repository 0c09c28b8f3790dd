/** Run profiles: named lists of steps, as YAML files under run-profiles/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, formatZodIssues, type LoadedConfig, parseYaml } from '../config/load.js';

/**
 * MIM's step types. Imports stage only; `delta-import-sync` is MIM's "Delta Import and Delta
 * Synchronization" (the import, then a delta sync of the same agent, as one step).
 */
export const STEP_TYPES = ['full-import', 'delta-import', 'delta-import-sync', 'full-sync', 'delta-sync', 'export'] as const;
export type StepType = (typeof STEP_TYPES)[number];

const profileSchema = z
  .object({
    description: z.string().optional(),
    steps: z
      .array(
        z
          .object({
            agent: z.string(),
            type: z.enum(STEP_TYPES),
            /** MIM's per-step object limit: the step stops (stopped-object-limit) after this many objects. */
            limit: z.number().int().min(1).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type RunProfile = z.infer<typeof profileSchema> & { name: string; file: string };

/** The shipped profiles, next to the package's dist/ folder. */
export const SHIPPED_PROFILES = resolve(dirname(fileURLToPath(import.meta.url)), '../../run-profiles');

export function profileDirectory(loaded: LoadedConfig): string {
  if (loaded.config.runProfiles) return loaded.path(loaded.config.runProfiles);
  const local = join(loaded.dir, 'run-profiles');
  return existsSync(local) ? local : SHIPPED_PROFILES;
}

export function loadProfile(loaded: LoadedConfig, name: string): RunProfile {
  const file = /[\\/]|\.ya?ml$/.test(name) ? resolve(name) : join(profileDirectory(loaded), `${name}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(file, [`no run profile "${name}" (looked for ${file}); set runProfiles in ${loaded.file} or pass a path`]);
  }
  const parsed = profileSchema.safeParse(parseYaml(file, text));
  if (!parsed.success) throw new ConfigError(file, formatZodIssues(parsed.error));
  const agents = Object.keys(loaded.config.agents);
  const problems = parsed.data.steps.flatMap((s, i) =>
    agents.includes(s.agent) ? [] : [`steps.${i}.agent: no agent named "${s.agent}" in ${loaded.file}; agents are: ${agents.join(', ')}`],
  );
  if (problems.length) {
    // The shipped profiles name every agent of the shipped config (groups and mail-in databases included).
    const fix = `define these agents in ${loaded.file} (examples/quickstart/dirbridge.yaml has them all), or set runProfiles to profiles of your own without them`;
    throw new ConfigError(file, [...problems, fix]);
  }
  return { ...parsed.data, name, file };
}

/** The agents a run profile exports to, in the config's order (what `plan PROFILE` shows). */
export function agentsExportedBy(loaded: LoadedConfig, name: string): string[] {
  const exported = new Set(
    loadProfile(loaded, name)
      .steps.filter((s) => s.type === 'export')
      .map((s) => s.agent),
  );
  return Object.keys(loaded.config.agents).filter((a) => exported.has(a));
}
