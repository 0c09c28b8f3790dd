/**
 * What a synchronization decides, as plain data: each decision the rules make about one object is
 * one of these, and only the applier (`apply.ts`) turns them into writes. A run applies them to the
 * store as they are made, inside the batch's transaction; `preview` lays them over a read-only store
 * instead (`overlay.ts`). Both get them from the same deciding code, so what preview shows is what a
 * run does.
 *
 * Decisions are applied one by one as they are made, not collected per object first: a later
 * decision reads what an earlier one changed (a person projected, then provisioned; a contact
 * unlinked, then its person looked at again), and the view it reads must already show it.
 */
import type { AttributeMap } from '../../model/objects.js';
import type { CsRow, MvRow, PendingExport } from '../../model/objects.js';
import type { ProblemCode } from '../../model/problems.js';
import type { PersonMove } from '../../model/moves.js';
import type { TraceLine } from '../context.js';
import type { UnresolvedReference } from '../../metaverse/unresolved-references.js';

/** A connector-space object is gone (its directory no longer holds it) or was never exported. */
export type CsRemoval = 'cs-delete' | 'provision-cancel';
/** Why a connector left its metaverse object: its source changed, or its metaverse object went. */
export type UnlinkEvent = 'disconnect' | 'deprovision';

export type Decision =
  /** Why the rules decided what they did: what `preview` shows, rule by rule. Written nowhere. */
  | { kind: 'explain'; line: TraceLine }
  /** The object's imported change is synchronized. */
  | { kind: 'settle-import'; cs: CsRow }
  | { kind: 'remove-cs'; cs: CsRow; operation: CsRemoval }
  /** `settlesImport`: the link is what the sync makes of the object's imported change. */
  /** `event`: the lineage's word for it when it says more than the link's kind ("migrated"). */
  | { kind: 'link'; cs: CsRow; mvId: number; linkKind: 'join' | 'projection'; owned: boolean; detail: string; settlesImport: boolean; event?: string }
  | { kind: 'unlink'; cs: CsRow; event: UnlinkEvent; detail: string }
  | { kind: 'create-mv'; objectType: string; attributes: AttributeMap; sources: Record<string, string> }
  | { kind: 'update-mv'; before: MvRow; attributes: AttributeMap; sources: Record<string, string> }
  | { kind: 'delete-mv'; mv: MvRow; reason: string }
  /** A new object for a metaverse object, linked to it and waiting for its add. */
  | { kind: 'provision'; agent: string; dn: string; objectClasses: string[]; attributes: AttributeMap; mvId: number; detail: string }
  /** A provisioned object still waiting for its add, planned again with the latest values. */
  | { kind: 'replan'; cs: CsRow; dn: string; objectClasses: string[]; attributes: AttributeMap }
  | { kind: 'stage-export'; export: PendingExport }
  | { kind: 'withdraw-export'; csId: number }
  | { kind: 'open-conflict'; mv: MvRow; agent: string; mail: string; others: string[] }
  | { kind: 'close-conflict'; mv: MvRow; agent: string; why: string }
  /** A person moved to the other side: recorded for auditors, and as dirbridge's record of the X500 addresses it carried. */
  | { kind: 'record-move'; move: PersonMove }
  /** The references of an object's attribute that could not be resolved, replacing what was recorded. */
  | { kind: 'set-unresolved'; csId: number; attribute: string; entries: UnresolvedReference[] }
  | { kind: 'report'; severity: 'error' | 'warning'; object: string; attribute?: string | undefined; code: ProblemCode; message: string };

/** Decisions that make a new object answer with its id. */
export type Creation = Extract<Decision, { kind: 'create-mv' | 'provision' }>;

/** Where decisions go: the store in a run, an overlay in a preview. */
export interface DecisionSink {
  apply(d: Creation): number;
  apply(d: Exclude<Decision, Creation>): void;
}
