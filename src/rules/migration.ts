/** Migration rules: whether a person's document says they moved, how their mailbox is found, what X500 addresses go with them. Pure. */
import type { AttributeMap } from '../model/objects.js';
import type { MigrationConfig } from '../config/schema.js';
import { isX500Proxy, x500Proxy } from '../util/legacy-dn.js';
import { evaluateScope } from './scope.js';

/**
 * The document says its person moved: every movedWhen condition holds. An object carrying one of
 * dirbridge's ownership stamps is a contact dirbridge wrote, never a person, and never moved.
 */
export function hasMoved(attributes: AttributeMap, migration: MigrationConfig, stamps: readonly { attribute: string; value: string }[]): boolean {
  return evaluateScope(attributes, migration.movedWhen, stamps).inScope;
}

/** Why the document says so, in the words of its conditions (for preview and lineage). */
export function movedBecause(migration: MigrationConfig): string {
  return migration.movedWhen
    .map((c) =>
      c.equals !== undefined
        ? `${c.attribute} = "${c.equals}"`
        : c.notEquals !== undefined
          ? `${c.attribute} is not "${c.notEquals}"`
          : c.endsWith !== undefined
            ? `${c.attribute} ends with "${c.endsWith}"`
            : `${c.attribute} is ${c.present ? 'present' : 'absent'}`,
    )
    .join(' and ');
}

/** For each match rule, the values to look up on the other side: (attribute there, values here). */
export function matchLookups(attributes: AttributeMap, migration: MigrationConfig, side: 'from' | 'to'): { attribute: string; values: string[] }[] {
  const other = side === 'from' ? 'to' : 'from';
  return migration.match.map((rule) => ({ attribute: rule[other], values: (attributes[rule[side]] ?? []).filter((v) => v.trim() !== '') }));
}

/**
 * The X500 addresses a contact carries: its legacyExchangeDN and its X500: proxy addresses (a
 * contact replaced before may carry the addresses of an older one). Outlook's cached recipients and
 * old mail point at them; the mailbox that replaces the contact must answer to all of them.
 */
export function carriedX500(contacts: readonly AttributeMap[]): string[] {
  const out = new Map<string, string>();
  for (const a of contacts) {
    for (const dn of a['legacyexchangedn'] ?? []) if (dn.trim()) out.set(x500Proxy(dn).toLowerCase(), x500Proxy(dn));
    for (const p of a['proxyaddresses'] ?? []) if (isX500Proxy(p)) out.set(p.toLowerCase(), `X500:${p.slice(5)}`);
  }
  return [...out.values()];
}

/** Those of `x500` the mailbox does not have yet (proxy addresses compare without case). */
export function missingX500(mailboxProxies: readonly string[], x500: readonly string[]): string[] {
  const held = new Set(mailboxProxies.map((p) => p.toLowerCase()));
  return x500.filter((x) => !held.has(x.toLowerCase()));
}
