/**
 * The reads a synchronization's decisions need, and nothing else: the store answers them in a run,
 * and an overlay of decisions not yet written answers them in a preview and in unit tests.
 */
import type { CsRow, MvRow, PendingExport } from '../../model/objects.js';
import type { UnresolvedReference } from '../../metaverse/unresolved-references.js';

export interface AddressConflictRow {
  mvId: number;
  agent: string;
  mail: string;
}

export interface SyncView {
  getCs(id: number): CsRow | undefined;
  getMv(id: number): MvRow | undefined;
  /** The connector-space objects linked to a metaverse object, by id. */
  connectorsOf(mvId: number): CsRow[];
  /** Metaverse objects whose indexed attribute has this value (case-insensitive), optionally of one type. */
  findMv(attribute: string, value: string, objectType?: string): number[];
  /** Disconnectors of an agent whose index key ("attribute" or "attribute#smtp") has this folded value. */
  findDisconnectors(agent: string, key: string, value: string): CsRow[];
  /** An agent's objects at a DN, however it is spelt. */
  getCsByDn(agent: string, dn: string): CsRow[];
  getPendingExport(csId: number): PendingExport | undefined;
  pendingExportOperation(csId: number): PendingExport['operation'] | undefined;
  hasDisconnectors(agent: string): boolean;
  /** An operator disconnected it by hand: no rule joins it again. */
  isExplicitDisconnect(csId: number): boolean;
  hasFullImport(agent: string): boolean;
  addressConflicts(): AddressConflictRow[];
  /** The references of an object's attribute recorded as unresolved (each was reported when found). */
  unresolvedOf(csId: number, attribute: string): UnresolvedReference[];
  /** The objects holding one of these values as an unresolved reference. */
  unresolvedHolders(values: readonly string[]): number[];
}
