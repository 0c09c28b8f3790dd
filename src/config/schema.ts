/**
 * The shape of dirbridge.yaml. Every object is strict: an unknown key is a typo until proven
 * otherwise, and an identity engine must not silently ignore a misspelt safety setting.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { agentConfig } from '../agents/registry.js';
import { groupModesSchema } from './group-modes.js';

export { agentConfig };
import { attributeName, secretRef } from '../util/config-fields.js';
import { ADDRESS_PARTS, placeholdersOf, withoutPlaceholders } from '../util/template.js';

const flowValue = z.union([
  z.string(),
  z.object({ first: z.array(z.string()).min(1) }).strict(),
  z.object({ template: z.string() }).strict(),
  z.object({ constant: z.string() }).strict(),
  /**
   * Values that name other objects (a group's members). In an import flow: the DNs in this connector
   * attribute, each resolved to the metaverse object of the object at that DN in the first of
   * `resolveIn` that holds one. In an export flow: the metaverse objects in this attribute, each
   * written as the DN of its object in the first of `resolveIn` that holds one. Written as values
   * added and removed, never as a replace of the whole list.
   */
  z.object({ references: z.string(), resolveIn: z.array(z.string()).min(1) }).strict(),
]);

const attributeCondition = z
  .object({
    attribute: z.string(),
    equals: z.string().optional(),
    notEquals: z.string().optional(),
    present: z.boolean().optional(),
    /** A value ends with this text (case-insensitive): an address in a routing domain, "@exchange.acme.com". */
    endsWith: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => [c.equals, c.notEquals, c.present, c.endsWith].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of equals, notEquals, present, endsWith',
  });

const scopeCondition = z.union([
  attributeCondition,
  /** true: only Exchange mailbox users (homeMDB, msExchMailboxGuid or a mailbox msExchRecipientTypeDetails). */
  z.object({ exchangeMailbox: z.boolean() }).strict(),
]);

const joinRule = z
  .object({
    cs: z.string(),
    mv: z.string(),
    /** smtp: connector values like "SMTP:a@b" / "smtp:a@b" are compared as "a@b". */
    transform: z.enum(['none', 'smtp']).default('none'),
  })
  .strict();

const agentRules = z
  .object({
    objectType: z.string(),
    scope: z.array(scopeCondition).default([]),
    project: z.boolean().default(false),
    join: z.array(joinRule).default([]),
    importFlows: z.record(z.string(), flowValue).default({}),
    exportFlows: z.record(z.string(), flowValue).default({}),
    provision: z
      .object({
        dn: z.string(),
        objectClasses: z.array(z.string()).optional(),
        /** MV attributes without which no contact is created (the object gets an error instead). */
        require: z.array(z.string()).default(['mail']),
        /**
         * Reply-ability: each object created gets a stable legacyExchangeDN under this prefix (the
         * organisation and administrative group, "/o=Acme/ou=Exchange Administrative Group
         * (FYDIBOHF23SPDLT)/cn=Recipients") and an X500: proxy address for it.
         */
        legacyExchangeDN: z
          .object({
            prefix: z
              .string()
              .regex(/^\/o=[^/]+(\/(ou|cn)=[^/]+)*\/?$/i, 'an X.500 path such as "/o=Acme/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients"'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    ownership: z
      .object({ attribute: attributeName, value: z.string().min(1) })
      .strict()
      .optional(),
    deprovision: z.enum(['delete', 'disconnect']).default('delete'),
  })
  .strict();

const objectType = z
  .object({
    attributes: z.array(z.string()).min(1),
    deleteWhenDisconnectedFrom: z.array(z.string()).default([]),
  })
  .strict();

const deletionThreshold = z
  .object({
    /** More pending deletes than this in one export step stop the run before the first delete. */
    count: z.number().int().min(0).default(500),
    /** ... or more than this share of the agent's objects (checked from minimumObjects objects up). */
    percent: z.number().min(0).max(100).default(20),
    minimumObjects: z.number().int().min(0).default(100),
  })
  .strict();

const safety = z
  .object({
    deletionThreshold: deletionThreshold.prefault({}),
    /** Per-agent thresholds, replacing the global one for that agent's exports. */
    agents: z.record(z.string(), z.object({ deletionThreshold }).strict()).default({}),
    /**
     * A full import that would delete more than this share of the agent's connector space (from 10
     * objects up), or that returns nothing at all, is refused as a source of deletions.
     */
    fullImportShrinkPercent: z.number().min(0).max(100).default(50),
    /** Errors in one run after which it stops (MIM's default). */
    errorLimit: z.number().int().min(1).default(5000),
    /**
     * Retries of a request that failed in a way that may pass (busy, throttled, a broken connection):
     * attempts after the first, with exponential backoff between initialDelayMs and maxDelayMs.
     */
    retry: z
      .object({
        attempts: z.number().int().min(0).max(20).default(3),
        initialDelayMs: z.number().int().min(0).default(1000),
        maxDelayMs: z.number().int().min(0).default(30_000),
      })
      .strict()
      .prefault({}),
    /** Staging mode: imports and syncs run, exports stay pending (true: every agent; or a list of agents). */
    staging: z.union([z.boolean(), z.array(z.string())]).default(false),
  })
  .strict()
  .prefault({});

/**
 * People moving from one side to the other (Domino to Exchange): when the source document of a person
 * says they moved, and a mailbox of theirs is found, their contact goes, their document stands for the
 * mailbox on its side, and the contact's X500 addresses go to the mailbox where that may be written.
 */
const migration = z
  .object({
    /** The metaverse type people move from (their contacts go) and the one they move to (the mailbox). */
    from: z.string(),
    to: z.string(),
    /** Conditions on the person's own document (the agent that projects `from`) that say the person moved. */
    movedWhen: z.array(attributeCondition).min(1),
    /** Which object of `to` is the person's mailbox: these attributes of both are equal (the first rule that finds one wins). */
    match: z
      .array(z.object({ from: z.string(), to: z.string() }).strict())
      .min(1)
      .default([{ from: 'mail', to: 'mail' }]),
    /**
     * Agents whose mailboxes dirbridge may add X500: proxy addresses to (off by default: writing to
     * mailboxes is a permission of its own). It adds values only, and only ever takes away what it added.
     */
    writeX500: z.array(z.string()).default([]),
  })
  .strict();

const logLevel = z.enum(['debug', 'info', 'warn', 'error', 'silent']);

const logging = z
  .object({
    /** A JSON-lines log file (appended, mode 0600); none by default. */
    file: z.string().optional(),
    level: logLevel.default('info'),
    /** stderr: by default warn on a terminal (the progress bar shows the rest), info otherwise (cron). */
    stderrLevel: logLevel.optional(),
  })
  .strict()
  .prefault({});

const history = z
  .object({
    /** Runs, run errors and change-log entries older than this are purged after each run. */
    retentionDays: z.number().int().min(1).default(90),
  })
  .strict()
  .prefault({});

const health = z
  .object({
    /** dirbridge status warns when this profile has not succeeded for longer than maxAgeMinutes. */
    deltaProfile: z.string().default('delta-cycle'),
    maxAgeMinutes: z.number().int().min(1).default(60),
  })
  .strict()
  .prefault({});

/** A cron expression croner can run: checked when the config is read, not when the schedule starts. */
const cronExpression = z
  .string()
  .min(1)
  .superRefine((cron, ctx) => {
    try {
      new Cron(cron, { paused: true }).stop();
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `"${cron}" is not a cron expression (${(err as Error).message}); use 5 fields (minute hour day month weekday) or 6 with seconds first`,
      });
    }
  });
const scheduleEntry = z.object({ profile: z.string(), cron: cronExpression }).strict();

const serve = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8470),
    /** The access token the web view requires (from the environment or a file). */
    token: secretRef.optional(),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    metaverse: z
      .object({
        file: z.string(),
        objectTypes: z.record(z.string(), objectType),
        precedence: z.record(z.string(), z.array(z.string())).default({}),
      })
      .strict(),
    runProfiles: z.string().optional(),
    /** How each side's mail groups reach the other (src/config/group-modes.ts); laid out before validation. */
    groups: groupModesSchema.optional(),
    safety,
    logging,
    history,
    health,
    /** dirbridge schedule: profiles and their cron expressions (5 fields, or 6 with seconds). */
    schedule: z.array(scheduleEntry).default([]),
    serve,
    agents: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and hyphens'), agentConfig),
    rules: z.record(z.string(), agentRules),
    migration: migration.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const agents = new Set(Object.keys(cfg.agents));
    const types = cfg.metaverse.objectTypes;
    const issue = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const noAgent = (name: string): string => `no agent named "${name}"; agents are: ${[...agents].join(', ')}`;
    for (const [typeName, t] of Object.entries(types)) {
      t.deleteWhenDisconnectedFrom.forEach((a, i) => {
        if (!agents.has(a)) issue(['metaverse', 'objectTypes', typeName, 'deleteWhenDisconnectedFrom', i], noAgent(a));
      });
    }
    if (Array.isArray(cfg.safety.staging)) {
      cfg.safety.staging.forEach((a, i) => {
        if (!agents.has(a)) issue(['safety', 'staging', i], noAgent(a));
      });
    }
    for (const agent of Object.keys(cfg.safety.agents)) {
      if (!agents.has(agent)) issue(['safety', 'agents', agent], noAgent(agent));
    }
    for (const [attribute, ranked] of Object.entries(cfg.metaverse.precedence)) {
      ranked.forEach((a, i) => {
        if (!agents.has(a)) issue(['metaverse', 'precedence', attribute, i], noAgent(a));
      });
    }
    for (const [agent, r] of Object.entries(cfg.rules)) {
      const at = (...p: (string | number)[]): (string | number)[] => ['rules', agent, ...p];
      if (!agents.has(agent)) issue(['rules', agent], noAgent(agent));
      const type = types[r.objectType];
      if (!type) {
        issue(at('objectType'), `unknown metaverse object type "${r.objectType}"; types are: ${Object.keys(types).join(', ')}`);
        continue;
      }
      const mvAttrs = new Set(type.attributes);
      for (const mvAttr of Object.keys(r.importFlows)) {
        if (!mvAttrs.has(mvAttr))
          issue(at('importFlows', mvAttr), `"${mvAttr}" is not an attribute of ${r.objectType}; add it to metaverse.objectTypes.${r.objectType}.attributes`);
      }
      for (const [csAttr, v] of Object.entries(r.exportFlows)) {
        for (const ref of referencedAttributes(v)) {
          if (!mvAttrs.has(ref)) issue(at('exportFlows', csAttr), `refers to "${ref}", which is not an attribute of ${r.objectType}`);
        }
        const part = flowTemplate(v) && templatePartProblem(flowTemplate(v)!);
        if (part) issue(at('exportFlows', csAttr), part);
        if (isReferenceFlow(v)) {
          v.resolveIn.forEach((a, i) => {
            if (!agents.has(a)) issue(at('exportFlows', csAttr, 'resolveIn', i), noAgent(a));
          });
          if (!referenceAttributesOf(cfg.rules, r.objectType).includes(v.references))
            issue(
              at('exportFlows', csAttr, 'references'),
              `no import flow of ${r.objectType} fills "${v.references}" with references: give one (e.g. ${v.references}: { references: member, resolveIn: [...] }) in the rules of the agent that projects ${r.objectType}`,
            );
        }
      }
      for (const [mvAttr, v] of Object.entries(r.importFlows)) {
        const part = flowTemplate(v) && templatePartProblem(flowTemplate(v)!);
        if (part) issue(at('importFlows', mvAttr), part);
        if (isReferenceFlow(v)) {
          v.resolveIn.forEach((a, i) => {
            if (!agents.has(a)) issue(at('importFlows', mvAttr, 'resolveIn', i), noAgent(a));
          });
        }
      }
      r.join.forEach((j, i) => {
        if (!mvAttrs.has(j.mv)) issue(at('join', i, 'mv'), `"${j.mv}" is not an attribute of ${r.objectType}`);
      });
      if (r.provision) {
        for (const ref of templateReferences(r.provision.dn)) {
          if (!mvAttrs.has(ref)) issue(at('provision', 'dn'), `refers to "{${ref}}", which is not an attribute of ${r.objectType}`);
        }
        const templateProblem = dnTemplateProblem(r.provision.dn) ?? templatePartProblem(r.provision.dn);
        if (templateProblem) issue(at('provision', 'dn'), templateProblem);
        if (!r.ownership) issue(at('ownership'), 'an agent that provisions must stamp what it creates: add ownership: { attribute: ..., value: ... }');
      }
      if (r.project && r.provision) issue(at('project'), 'an agent either projects (a source) or is provisioned (a target), not both');
      const agentCfg = cfg.agents[agent];
      if (agentCfg && 'attributes' in agentCfg) {
        // What dirbridge writes must also be read back, or every sync would see a difference.
        const read = new Set(agentCfg.attributes.map((a) => a.toLowerCase()));
        const stamped = r.provision?.legacyExchangeDN ? ['legacyExchangeDN', 'proxyAddresses'] : [];
        for (const csAttr of [...Object.keys(r.exportFlows), ...(r.ownership ? [r.ownership.attribute] : []), ...stamped]) {
          if (!read.has(csAttr.toLowerCase())) issue(['agents', agent, 'attributes'], `must include "${csAttr}", which the rules of ${agent} write`);
        }
      }
    }
    if (cfg.migration) checkMigration(cfg.migration, cfg, issue, noAgent);
  });

/** The migration section against the types, rules and agents it names. */
function checkMigration(
  m: z.infer<typeof migration>,
  cfg: { metaverse: { objectTypes: Record<string, { attributes: string[] }> }; rules: Record<string, AgentRules>; agents: Record<string, unknown> },
  issue: (path: (string | number)[], message: string) => void,
  noAgent: (name: string) => string,
): void {
  const types = cfg.metaverse.objectTypes;
  for (const side of ['from', 'to'] as const) {
    const type = types[m[side]];
    if (!type) {
      issue(['migration', side], `unknown metaverse object type "${m[side]}"; types are: ${Object.keys(types).join(', ')}`);
      continue;
    }
    if (!Object.values(cfg.rules).some((r) => r.project && r.objectType === m[side]))
      issue(['migration', side], `no agent projects ${m[side]}: people can only move between types that agents project`);
    m.match.forEach((rule, i) => {
      if (!type.attributes.includes(rule[side])) issue(['migration', 'match', i, side], `"${rule[side]}" is not an attribute of ${m[side]}`);
    });
  }
  if (m.from === m.to) issue(['migration', 'to'], 'people move between two different types: from and to are the same');
  m.writeX500.forEach((agent, i) => {
    const at = ['migration', 'writeX500', i];
    const agentCfg = cfg.agents[agent] as { type?: string; attributes?: string[] } | undefined;
    if (!agentCfg) return issue(at, noAgent(agent));
    if (cfg.rules[agent]?.objectType !== m.to || !cfg.rules[agent]?.project)
      return issue(at, `${agent} does not project ${m.to}: X500 addresses are written to the mailboxes people move to`);
    if (!['ad-ldap', 'ldif'].includes(agentCfg.type ?? ''))
      return issue(at, `${agent} is a ${agentCfg.type} agent: X500 addresses can be written to Active Directory (ad-ldap) or an LDIF file only`);
    if (agentCfg.attributes && !agentCfg.attributes.some((a) => a.toLowerCase() === 'proxyaddresses'))
      issue(['agents', agent, 'attributes'], `must include "proxyAddresses", which migration.writeX500 adds to`);
  });
}

export type DirbridgeConfig = z.infer<typeof configSchema>;
export type MigrationConfig = z.infer<typeof migration>;
// Each agent type's config is described with its agent (src/agents/*/descriptor.ts).
export type { AgentConfig } from '../agents/registry.js';
export type { LdapAgentConfig, DeltaStrategyName } from '../agents/ldap/config.js';
export type { LdifAgentConfig } from '../agents/ldif/descriptor.js';
export type { GraphAgentConfig } from '../agents/graph/descriptor.js';
export type { ExoContactsAgentConfig } from '../agents/exo/descriptor.js';
export type { EntraAgentConfig } from '../agents/entra/config.js';
export type { SecretRef } from '../util/config-fields.js';
export { GRAPH_USER_SELECT } from '../agents/graph/descriptor.js';
export { DELTA_STRATEGIES } from '../agents/ldap/config.js';
export type AgentRules = z.infer<typeof agentRules>;
export type FlowValue = z.infer<typeof flowValue>;
export type ReferenceFlow = Extract<FlowValue, { references: string }>;

export const isReferenceFlow = (flow: FlowValue): flow is ReferenceFlow => typeof flow === 'object' && 'references' in flow;

/** The metaverse attributes of an object type that hold references (a group's members), by the import flows that fill them. */
export function referenceAttributesOf(rules: Record<string, AgentRules>, objectType: string): string[] {
  const out = new Set<string>();
  for (const r of Object.values(rules)) {
    if (r.objectType !== objectType) continue;
    for (const [attr, flow] of Object.entries(r.importFlows)) if (isReferenceFlow(flow)) out.add(attr);
  }
  return [...out];
}

/** The connector attributes (lower-case) an agent's export flows write as references: lists written as values added and removed. */
export function referenceExportAttributes(rules: AgentRules | undefined): string[] {
  return Object.entries(rules?.exportFlows ?? {})
    .filter(([, flow]) => isReferenceFlow(flow))
    .map(([attr]) => attr.toLowerCase());
}
export type ScopeCondition = z.infer<typeof scopeCondition>;
export type JoinRule = z.infer<typeof joinRule>;

/**
 * Why a provisioning DN template cannot give a DN, if it cannot: braces that do not pair, or a text
 * that is not a DN of at least two RDNs (the new object's own, and the container it goes in) once its
 * placeholders are filled.
 */
export function dnTemplateProblem(template: string): string | undefined {
  const stripped = withoutPlaceholders(template);
  if (/[{}]/.test(stripped)) return `"${template}" has a "{" or "}" that is not a placeholder such as {cn}; check the braces`;
  const rdns = splitUnescaped(stripped, ',');
  const bad = rdns.find((r) => !/^\s*[A-Za-z][A-Za-z0-9-]*\s*=\s*\S/.test(r));
  if (bad !== undefined || rdns.length < 2)
    return `"${template}" is not a DN template: it needs RDNs of the form attribute=value, the first naming the new object ("CN={cn},OU=Contacts,DC=acme,DC=example")`;
  if (placeholdersOf(splitUnescaped(template, ',')[0]!).length === 0)
    return `"${template}": its first RDN must hold a placeholder (e.g. CN={cn}), or every object would get the same DN`;
  return undefined;
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      current += text.slice(i, i + 2);
      i++;
    } else if (text[i] === separator) {
      parts.push(current);
      current = '';
    } else current += text[i];
  }
  parts.push(current);
  return parts;
}

export function templateReferences(template: string): string[] {
  return placeholdersOf(template).map((p) => p.attribute);
}

/** A placeholder with a part that is not an address part ({mail.host}), if the template has one. */
export function templatePartProblem(template: string): string | undefined {
  const bad = placeholdersOf(template).find((p) => p.unknownPart !== undefined);
  return bad
    ? `${bad.text}: "${bad.unknownPart}" is not a part of an address; use {${bad.attribute}.${ADDRESS_PARTS.join(`} or {${bad.attribute}.`)}}`
    : undefined;
}

function flowTemplate(v: FlowValue): string | undefined {
  return typeof v === 'object' && 'template' in v ? v.template : undefined;
}

export function referencedAttributes(v: FlowValue): string[] {
  if (typeof v === 'string') return [v];
  if ('first' in v) return v.first;
  if ('template' in v) return templateReferences(v.template);
  if ('references' in v) return [v.references];
  return [];
}
