/** Provisioning: whether and how an MV object gets a new object (a contact) in a target agent. */
import type { AttributeMap } from '../model/objects.js';
import type { RuleProblem } from '../model/problems.js';
import type { AgentRules } from '../config/schema.js';
import { escapeDnValue, parseDn } from '../util/dn.js';
import { smtpAddressProblem } from '../util/smtp.js';
import { desiredExportAttributes, type ReferenceResolver } from './flows.js';
import { fillTemplate } from '../util/template.js';
import { isX500Proxy, stableLegacyExchangeDn, x500Proxy } from '../util/legacy-dn.js';

/** What a provisioning rule found wrong with a metaverse object. */
export type Problem = RuleProblem;

/** Builds a DN from a template; every substituted value is escaped, so names cannot inject RDNs. */
export function buildDn(template: string, mvAttributes: AttributeMap): { dn: string } | { problem: Problem } {
  const filled = fillTemplate(template, (name) => mvAttributes[name]?.[0], escapeDnValue);
  if (filled.missing) {
    const { attribute, part, text } = filled.missing;
    const what = part ? `no ${attribute} with a ${part} part (an address local@domain)` : `no ${attribute}`;
    return { problem: { attribute, code: 'missing-attribute', message: `has ${what}, which the DN template needs for ${text}` } };
  }
  const dn = filled.text;
  try {
    parseDn(dn);
  } catch (e) {
    return { problem: { code: 'invalid-dn', message: `DN template gives an invalid DN: ${(e as Error).message}` } };
  }
  return { dn };
}

/**
 * Whether an object in the target is of another kind than the rule creates: it shares none of the
 * rule's object classes but `top` (a contact where the rule makes groups, a group where it makes
 * contacts: what `groups: address` made, after a switch to `mirror`, and back). A mail user where the
 * rule makes contacts shares `person` and is not another kind. An object read without its classes,
 * or a rule that names none, says nothing.
 */
export function isOtherKind(objectClasses: readonly string[], rules: AgentRules): boolean {
  const made = (rules.provision?.objectClasses ?? []).map((c) => c.toLowerCase()).filter((c) => c !== 'top');
  if (!made.length || !objectClasses.length) return false;
  const have = new Set(objectClasses.map((c) => c.toLowerCase()));
  return !made.some((c) => have.has(c));
}

/** Why the MV object cannot be provisioned (missing or unusable required attributes), if it cannot. */
export function provisioningProblem(mvAttributes: AttributeMap, required: readonly string[]): Problem | undefined {
  for (const attr of required) {
    const values = mvAttributes[attr] ?? [];
    if (values.length === 0 || values.every((v) => v.trim() === '')) {
      return { attribute: attr, code: 'missing-attribute', message: `has no ${attr}; a contact cannot be created without it` };
    }
    if (attr === 'mail') {
      const why = smtpAddressProblem(values[0]!);
      if (why) return { attribute: attr, code: 'invalid-smtp-address', message: `mail "${values[0]}" ${why}` };
    }
  }
  return undefined;
}

/** Another object that has the same address; `sameType` when it is of the same kind (two people). */
export interface AddressHolder {
  label: string;
  sameType: boolean;
  /** A source object not synchronized yet (not yet a metaverse object). */
  unsynchronized?: boolean;
}

const CONFLICT_FOLLOW_UP = 'Reported once; "dirbridge conflicts" lists open conflicts, and the contact follows by itself when the address is no longer shared';

/**
 * A contact must never capture the mail of a real mailbox or person. The same address on an object of
 * the other type is most often a person being migrated; on two objects of the same type it is a data
 * error in the source. Either way no contact is created while the address is shared.
 */
export function addressConflictProblem(mail: string | undefined, holders: readonly AddressHolder[]): Problem | undefined {
  if (!mail || holders.length === 0) return undefined;
  const names = holders.map((h) => h.label).join('; ');
  if (holders.some((h) => h.sameType)) {
    return {
      attribute: 'mail',
      code: 'duplicate-address',
      message: `mail ${mail} is also the address of ${names}; one address on two people is a data error in the source, so no contact is created for it until the address is corrected. ${CONFLICT_FOLLOW_UP}`,
    };
  }
  return {
    attribute: 'mail',
    code: 'address-conflict',
    message: `mail ${mail} also belongs to ${names}; no contact is created while both exist (a person being migrated?). ${CONFLICT_FOLLOW_UP}`,
  };
}

/** The connector attributes a source agent's import flow takes `mail` from. */
export function mailSourceAttributes(rules: AgentRules): string[] {
  const flow = rules.importFlows['mail'];
  if (flow === undefined) return [];
  if (typeof flow === 'string') return [flow];
  if ('first' in flow) return flow.first;
  return [];
}

export interface ProvisionPlan {
  dn: string;
  objectClasses: string[] | undefined;
  attributes: AttributeMap;
}

/**
 * The full object to add: export flows plus the ownership stamp, without empty attributes, and the
 * object's legacyExchangeDN when the rule gives one (`seed` names the person for good: see
 * stableLegacyExchangeDn).
 */
export function planNewObject(
  mvAttributes: AttributeMap,
  rules: AgentRules,
  seed = '',
  resolve?: ReferenceResolver,
): { plan: ProvisionPlan } | { problem: Problem } {
  if (!rules.provision) return { problem: { code: 'no-provisioning-rule', message: 'the agent has no provisioning rule' } };
  const problem = provisioningProblem(mvAttributes, rules.provision.require);
  if (problem) return { problem };
  const built = buildDn(rules.provision.dn, mvAttributes);
  if ('problem' in built) return built;
  const attributes = withoutEmpty(desiredExportAttributes(mvAttributes, rules.exportFlows, resolve));
  if (rules.ownership) attributes[rules.ownership.attribute.toLowerCase()] = [rules.ownership.value];
  Object.assign(attributes, replyAddresses(rules, seed, attributes));
  // The RDN value must be among the attribute values, or the directory rejects the add.
  const rdn = parseDn(built.dn)[0]!;
  const rdnAttr = rdn.attribute.toLowerCase();
  attributes[rdnAttr] = [rdn.value, ...(attributes[rdnAttr] ?? []).filter((v) => v !== rdn.value)].slice(0, 1);
  return { plan: { dn: built.dn, objectClasses: rules.provision.objectClasses, attributes } };
}

/**
 * The legacyExchangeDN and its X500: proxy address for an object the rule creates, added to the
 * proxy addresses the flows give (`current`); nothing when the rule stamps none.
 */
export function replyAddresses(rules: AgentRules, seed: string, current: AttributeMap): AttributeMap {
  const prefix = rules.provision?.legacyExchangeDN?.prefix;
  if (!prefix) return {};
  const legacyDn = stableLegacyExchangeDn(prefix, seed);
  const proxies = current['proxyaddresses'] ?? [];
  const x500 = x500Proxy(legacyDn);
  return {
    legacyexchangedn: [legacyDn],
    proxyaddresses: proxies.some((p) => p.toLowerCase() === x500.toLowerCase()) ? proxies : [...proxies, x500],
  };
}

/**
 * What an object keeps of the one it replaces (see isOtherKind): that object's legacyExchangeDN and
 * X500: proxy addresses, added to its own proxy addresses, so that replies to mail sent to the old
 * object still arrive. Nothing when the new object has no proxy addresses (a Domino document).
 */
export function carriedReplyAddresses(replaced: AttributeMap, planned: AttributeMap): AttributeMap {
  const proxies = planned['proxyaddresses'];
  if (!proxies?.length) return {};
  const legacyDn = replaced['legacyexchangedn']?.[0];
  const kept = keepX500([...(legacyDn ? [x500Proxy(legacyDn)] : []), ...(replaced['proxyaddresses'] ?? [])], proxies);
  return kept.length > proxies.length ? { proxyaddresses: kept } : {};
}

/**
 * Proxy addresses for an update: what the flows want, plus the X500: addresses the object already
 * has. They are how replies to old mail find it (its own, or those of a contact it replaced, put
 * there by dirbridge or by an administrator), so no flow takes one away.
 */
export function keepX500(current: readonly string[], desired: readonly string[]): string[] {
  const wanted = new Set(desired.map((v) => v.toLowerCase()));
  // Each once: a directory refuses a value twice, and `current` may name one twice (see carriedReplyAddresses).
  const kept: string[] = [];
  for (const v of current) {
    if (!isX500Proxy(v) || wanted.has(v.toLowerCase())) continue;
    wanted.add(v.toLowerCase());
    kept.push(v);
  }
  return [...desired, ...kept];
}

function withoutEmpty(a: AttributeMap): AttributeMap {
  const out: AttributeMap = {};
  for (const [k, v] of Object.entries(a)) if (v.length) out[k] = v;
  return out;
}
