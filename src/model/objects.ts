/**
 * The shared model: connector objects, metaverse rows, pending exports and step statistics. Every
 * room stands on it; it imports nothing of src/.
 */

/** Attribute names are lower-case (LDAP names are case-insensitive); values are text. */
export type AttributeMap = Record<string, string[]>;

export interface ConnectorObject {
  anchor: string;
  dn: string;
  objectClasses: string[];
  attributes: AttributeMap;
}

/** An attribute change: the full new value set (an empty list removes the attribute). */
export type AttributeChanges = Record<string, string[]>;

export type PendingImport = 'add' | 'update' | 'delete';
export type LinkKind = 'projection' | 'join' | 'provisioning';

export interface CsRow {
  id: number;
  agent: string;
  anchor: string | null;
  dn: string;
  objectClasses: string[];
  attributes: AttributeMap;
  pendingImport: PendingImport | null;
  provisioned: boolean;
  owned: boolean;
  mvId: number | null;
  linkKind: LinkKind | null;
  linkedRun: number | null;
  linkedAt: string | null;
}

export interface MvRow {
  id: number;
  objectType: string;
  attributes: AttributeMap;
  /** Which agent contributed each attribute. */
  sources: Record<string, string>;
}

/** One attribute of a staged update: its values before and after, and, for a value delta, what is added and removed. */
export interface AttributeChange {
  before: string[];
  after: string[];
  added?: string[];
  removed?: string[];
}

/** A change written as values added and removed rather than as a replace. */
export const isValueDelta = (c: AttributeChange): boolean => c.added !== undefined || c.removed !== undefined;

/** sentAt: set just before the export is sent and cleared with its result; set at the start of a run, the outcome is unknown. */
export type PendingExport =
  | {
      csId: number;
      agent: string;
      operation: 'add';
      dn: string;
      objectClasses: string[];
      attributes: AttributeMap;
      attempts: number;
      lastError: string | null;
      sentAt?: string | null;
    }
  | {
      csId: number;
      agent: string;
      operation: 'update';
      dn: string;
      newDn: string | null;
      /**
       * `added` and `removed`: written as these values added and removed, not as a replace of the
       * whole attribute: the attribute is shared with others (a mailbox's proxy addresses, where only
       * `added` is ever set), or it is a list written as what changed in it (a group's members, which
       * a replace would rewrite whole, and AD refuses beyond 5,000 values).
       */
      changes: Record<string, AttributeChange>;
      attempts: number;
      lastError: string | null;
      sentAt?: string | null;
    }
  | { csId: number; agent: string; operation: 'delete'; dn: string; attempts: number; lastError: string | null; sentAt?: string | null };

export interface StepRef {
  runId: number;
  stepId: number;
}

export interface StepStats {
  adds: number;
  updates: number;
  renames: number;
  deletes: number;
  unchanged: number;
  errors: number;
  warnings: number;
  projections: number;
  joins: number;
  provisions: number;
  disconnects: number;
  exportsStaged: number;
  filtered: number;
  /** People moved to the other side (a mailbox found for a person whose document says they moved). */
  moves: number;
  /** Single values an export added to and removed from lists written as value changes (a group's members). */
  valuesAdded: number;
  valuesRemoved: number;
  /** Anchors a delta import's deletion check read (0 when it did not run). */
  deletionCheckRead: number;
  /** Objects the deletion check found gone from the agent's view (counted in deletes too). */
  deletionCheckGone: number;
  /** How long the deletion check took, in milliseconds. */
  deletionCheckMs: number;
}

export function emptyStats(): StepStats {
  return {
    adds: 0,
    updates: 0,
    renames: 0,
    deletes: 0,
    unchanged: 0,
    errors: 0,
    warnings: 0,
    projections: 0,
    joins: 0,
    provisions: 0,
    disconnects: 0,
    exportsStaged: 0,
    filtered: 0,
    moves: 0,
    valuesAdded: 0,
    valuesRemoved: 0,
    deletionCheckRead: 0,
    deletionCheckGone: 0,
    deletionCheckMs: 0,
  };
}

/** Who or what started a run, as the history records it. */
export interface RunOrigin {
  /** The command line or the scheduler. */
  trigger: 'command line' | 'schedule';
  user: string;
  host: string;
  pid: number;
  /** The command line's arguments (dirbridge takes no secret as an argument), or the schedule's cron expression. */
  command: string;
}
