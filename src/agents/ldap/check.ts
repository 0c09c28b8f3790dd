/**
 * `dirbridge test-agent` for an LDAP agent (ConnId's TestOp): after the connection and the bind, what
 * the config relies on is looked for in the directory itself: the root DSE, the controls the agent
 * and its delta strategy use, the base, one entry of the view with its anchor, and the configured
 * attributes in the directory's schema. Each finding is one line that says how to fix it.
 */
import type { Entry } from 'ldapts';
import type { AgentCheck } from '../types.js';
import { isInsufficientAccess, isNoSuchObject, isSizeLimit } from './results.js';
import { anchorOf, valuesOf } from './entry.js';
import type { LdapAgent } from './ldap-agent.js';

const PAGED_RESULTS = '1.2.840.113556.1.4.319';
const DIRSYNC = '1.2.840.113556.1.4.841';
const SHOW_DELETED = '1.2.840.113556.1.4.417';

const text = (v: unknown): string[] => valuesOf(v as Entry[string]).map(String);

export async function checkLdapAgent(agent: LdapAgent): Promise<AgentCheck[]> {
  const { config } = agent;
  const at = (key: string): string => `agents.${agent.name}.${key}`;
  const checks: AgentCheck[] = [];
  let dse: Entry;
  try {
    dse = await agent.rootDse([
      'supportedControl',
      'namingContexts',
      'subschemaSubentry',
      'vendorName',
      'vendorVersion',
      'highestCommittedUSN',
      'supportedLDAPVersion',
    ]);
    const vendor = [text(dse.vendorName)[0], text(dse.vendorVersion)[0]].filter(Boolean).join(' ');
    checks.push({
      check: 'root DSE',
      ok: true,
      detail: `${vendor || 'the server names no vendor'}; naming contexts: ${text(dse.namingContexts).join(', ') || '(none listed)'}`,
    });
  } catch (e) {
    checks.push({
      check: 'root DSE',
      ok: false,
      detail: `cannot be read (${(e as Error).message}); dirbridge reads it to find the controls the server offers`,
    });
    return checks;
  }
  const controls = new Set(text(dse.supportedControl));
  checks.push(
    controls.has(PAGED_RESULTS)
      ? { check: 'paged results control', ok: true, detail: `offered: reads go ${config.pageSize} entries a page (${at('pageSize')})` }
      : {
          check: 'paged results control',
          ok: true,
          detail: `not offered: each read is one answer, which the server's size limit may cut short (reported as incomplete-read, never taken as deletions)`,
        },
  );
  checks.push(await strategyCheck(agent, controls, dse));
  checks.push(await baseCheck(agent));
  checks.push(await oneEntryCheck(agent));
  checks.push(await schemaCheck(agent, text(dse.subschemaSubentry)[0]));
  return checks;
}

async function strategyCheck(agent: LdapAgent, controls: Set<string>, dse: Entry): Promise<AgentCheck> {
  const { strategy, accesslogBase, timestampAttribute } = agent.config.delta;
  const check = `delta strategy ${strategy}`;
  switch (strategy) {
    case 'dirsync':
      return controls.has(DIRSYNC)
        ? { check, ok: true, detail: 'the DirSync control is offered' }
        : {
            check,
            ok: false,
            detail: `the server does not offer the DirSync control (${DIRSYNC}): it is not Active Directory; set agents.${agent.name}.delta.strategy to usn, accesslog or timestamp`,
          };
    case 'usn':
      if (!text(dse.highestCommittedUSN)[0])
        return { check, ok: false, detail: `the root DSE has no highestCommittedUSN: the server is not Active Directory; choose another delta.strategy` };
      return {
        check,
        ok: true,
        detail: `highestCommittedUSN ${text(dse.highestCommittedUSN)[0]}${controls.has(SHOW_DELETED) ? '; the show-deleted control is offered' : '; the show-deleted control is not offered, so deletions are found by delta.deletions: sweep'}`,
      };
    case 'accesslog':
      try {
        for await (const _ of agent.search(accesslogBase, '(objectClass=*)', ['1.1'], { scope: 'base' })) break;
        return { check, ok: true, detail: `the change log ${accesslogBase} can be read` };
      } catch (e) {
        const why = isNoSuchObject(e)
          ? 'does not exist (is slapo-accesslog configured with this logdb?)'
          : isInsufficientAccess(e)
            ? 'cannot be read by the bind account (give it read access to the log database)'
            : (e as Error).message;
        return { check, ok: false, detail: `the change log ${accesslogBase} ${why}; or set agents.${agent.name}.delta.accesslogBase` };
      }
    case 'timestamp':
      return {
        check,
        ok: true,
        detail: `changes are found by ${timestampAttribute}, which the schema check below looks for; deletions by a sweep of the anchors`,
      };
  }
}

async function baseCheck(agent: LdapAgent): Promise<AgentCheck> {
  const { baseDn } = agent.config;
  try {
    for await (const page of agent.search(baseDn, '(objectClass=*)', ['objectClass'], { scope: 'base' })) {
      if (page.length) return { check: 'base', ok: true, detail: `${baseDn} exists` };
    }
    return {
      check: 'base',
      ok: false,
      detail: `${baseDn} cannot be seen by the bind account; check agents.${agent.name}.baseDn and the account's read rights`,
    };
  } catch (e) {
    if (isNoSuchObject(e)) return { check: 'base', ok: false, detail: `${baseDn} does not exist; correct agents.${agent.name}.baseDn` };
    return { check: 'base', ok: false, detail: `${baseDn} cannot be read: ${(e as Error).message}` };
  }
}

async function oneEntryCheck(agent: LdapAgent): Promise<AgentCheck> {
  const { baseDn, filter, searchScope, anchor } = agent.config;
  const check = 'one entry of the view';
  let entry: Entry | undefined;
  try {
    const { searchEntries } = await agent.ldap.search(baseDn, {
      scope: searchScope,
      filter,
      attributes: agent.importAttributes(),
      sizeLimit: 1,
      explicitBufferAttributes: agent.config.binaryAttributes,
    });
    entry = searchEntries[0];
  } catch (e) {
    if (isSizeLimit(e))
      return { check, ok: true, detail: `entries match ${filter} under ${baseDn} (the server stopped at the size limit of 1 this check asks for)` };
    return { check, ok: false, detail: `the search ${filter} under ${baseDn} failed: ${(e as Error).message}; check agents.${agent.name}.filter` };
  }
  if (!entry)
    return {
      check,
      ok: true,
      detail: `no entry matches ${filter} under ${baseDn} yet: an empty view (expected for a contacts container before the first export; for a source, check the filter)`,
    };
  if (anchorOf(entry, agent.mapping) === undefined)
    return {
      check,
      ok: false,
      detail: `${entry.dn} has no readable ${anchor}: set agents.${agent.name}.anchor to an attribute every entry has and the bind account can read`,
    };
  const missing = agent.config.attributes.filter((a) => !Object.keys(entry).some((k) => k.toLowerCase() === a.toLowerCase()));
  return {
    check,
    ok: true,
    detail: `${entry.dn} with its ${anchor}${missing.length ? `; it has no value for ${missing.join(', ')} (not an error: an attribute may be empty)` : ''}`,
  };
}

async function schemaCheck(agent: LdapAgent, subschema: string | undefined): Promise<AgentCheck> {
  const check = 'attributes in the schema';
  if (!subschema) return { check, ok: true, detail: 'the server names no subschema entry: the configured attributes were not checked' };
  let types: string[];
  try {
    const { searchEntries } = await agent.ldap.search(subschema, { scope: 'base', filter: '(objectClass=*)', attributes: ['attributeTypes'] });
    types = text(searchEntries[0]?.attributeTypes);
  } catch (e) {
    return { check, ok: true, detail: `the schema (${subschema}) cannot be read (${(e as Error).message}): the configured attributes were not checked` };
  }
  if (!types.length)
    return { check, ok: true, detail: `the schema (${subschema}) lists no attribute types to the bind account: the configured attributes were not checked` };
  const known = new Set(
    types.flatMap((t) => [...(/NAME\s+(\(([^)]*)\)|'([^']*)')/.exec(t)?.[0] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!.toLowerCase())),
  );
  const wanted = [
    ...new Set([
      ...agent.config.attributes,
      agent.config.anchor,
      ...(agent.config.delta.strategy === 'timestamp' ? [agent.config.delta.timestampAttribute] : []),
    ]),
  ];
  const missing = wanted.filter((a) => !known.has(a.toLowerCase()));
  if (missing.length)
    return {
      check,
      ok: false,
      detail: `the directory's schema has no attribute ${missing.join(', ')}: correct agents.${agent.name}.attributes (or anchor, delta.timestampAttribute)`,
    };
  return { check, ok: true, detail: `all ${wanted.length} configured attributes exist` };
}
