/** What a delta strategy may use of its LDAP agent, and what it offers back. */
import type { Client, Control, Entry } from 'ldapts';
import type { LdapAgentConfig } from '../config.js';
import type { ConnectorObject } from '../../../model/objects.js';
import type { ImportPage } from '../../types.js';

export interface LdapView {
  readonly name: string;
  readonly config: LdapAgentConfig;
  readonly ldap: Client;
  /** The attributes an import reads: the configured ones, the anchor and objectClass. */
  importAttributes(): string[];
  /** Raw entries page by page (paged when the server supports it). */
  search(base: string, filter: string, attributes: string[], options?: { scope?: 'base' | 'one' | 'sub'; controls?: Control[] }): AsyncIterable<Entry[]>;
  /** The agent's whole view (base, scope, filter) as import pages: the plain full import. */
  readView(): AsyncIterable<ImportPage>;
  /** Entries as connector objects; an entry that cannot be read becomes a per-object error. */
  toPage(entries: Entry[]): ImportPage;
  /** Whether a DN lies under the agent's base (with its scope). */
  inView(dn: string): boolean;
  /** The naming context holding the base: where moves out of the view can still be seen. */
  namingContext(): Promise<string>;
  rootDse(attributes: string[]): Promise<Entry>;
  readObject(dn: string): Promise<ConnectorObject | undefined>;
}

export interface DeltaStrategy {
  /** Whether its delta imports report deletions and objects that left the view (false: a deletion check is needed). */
  readonly seesDeletions: boolean;
  /** The full import, with the watermark from which the next delta starts on its last page. */
  fullImport(): AsyncIterable<ImportPage>;
  /** The changes since a watermark this strategy wrote. */
  deltaImport(watermark: string): AsyncIterable<ImportPage>;
}
