/**
 * Decisions laid over a view without writing them: the view a preview reads (a read-only store with
 * what the sync decided so far on top), and what the decisions would change, in the change log's
 * terms. Unit tests use it over an in-memory view. New objects get negative ids.
 */
import type { ChangeLogEntry } from '../../metaverse/store.js';
import type { UnresolvedReference } from '../../metaverse/unresolved-references.js';
import { dnKeyOf } from '../../metaverse/keys.js';
import { indexValues } from '../../metaverse/store.js';
import type { CsRow, MvRow, PendingExport } from '../../model/objects.js';
import type { ObjectProblem } from '../../model/problems.js';
import { diffAttributes, lookupValues } from '../../model/values.js';
import type { TraceLine } from '../context.js';
import type { Creation, Decision, DecisionSink } from './effects.js';
import type { AddressConflictRow, SyncView } from './view.js';

/** A plain copy: store rows parse their image lazily and cannot be spread. */
function copyCs(cs: CsRow, change: Partial<CsRow> = {}): CsRow {
  return {
    id: cs.id,
    agent: cs.agent,
    anchor: cs.anchor,
    dn: cs.dn,
    objectClasses: cs.objectClasses,
    attributes: cs.attributes,
    pendingImport: cs.pendingImport,
    provisioned: cs.provisioned,
    owned: cs.owned,
    mvId: cs.mvId,
    linkKind: cs.linkKind,
    linkedRun: cs.linkedRun,
    linkedAt: cs.linkedAt,
    ...change,
  };
}

/** An export as what it would write, to tell a replaced export from one staged again unchanged. */
function whatItWrites(p: PendingExport): string {
  if (p.operation === 'add') return JSON.stringify(['add', p.dn, p.objectClasses, p.attributes]);
  if (p.operation === 'update') return JSON.stringify(['update', p.dn, p.newDn, p.changes]);
  return JSON.stringify(['delete', p.dn]);
}

const byId = (a: { id: number }, b: { id: number }): number => (a.id > 0 ? a.id : 1e15 - a.id) - (b.id > 0 ? b.id : 1e15 - b.id);

export class Overlay implements SyncView, DecisionSink {
  readonly decisions: Decision[] = [];
  readonly trace: TraceLine[] = [];
  readonly changes: ChangeLogEntry[] = [];
  readonly problems: ObjectProblem[] = [];
  /** Objects changed by a decision; null: removed. */
  private readonly cs = new Map<number, CsRow | null>();
  private readonly mv = new Map<number, MvRow | null>();
  private readonly pending = new Map<number, PendingExport | null>();
  private readonly conflicts = new Map<string, AddressConflictRow | null>();
  private readonly unresolved = new Map<string, UnresolvedReference[]>();
  private nextId = -1;

  constructor(private readonly base: SyncView) {}

  // ---- the view ----------------------------------------------------------------------------

  getCs(id: number): CsRow | undefined {
    return this.cs.has(id) ? (this.cs.get(id) ?? undefined) : this.base.getCs(id);
  }

  getMv(id: number): MvRow | undefined {
    return this.mv.has(id) ? (this.mv.get(id) ?? undefined) : this.base.getMv(id);
  }

  /** The base's answer without the objects a decision changed, and the changed ones that now match. */
  private csWhere(fromBase: CsRow[], matches: (cs: CsRow) => boolean): CsRow[] {
    const out = fromBase.filter((c) => !this.cs.has(c.id));
    for (const c of this.cs.values()) if (c && matches(c)) out.push(c);
    return out.sort(byId);
  }

  connectorsOf(mvId: number): CsRow[] {
    return this.csWhere(this.base.connectorsOf(mvId), (c) => c.mvId === mvId);
  }

  findDisconnectors(agent: string, key: string, value: string): CsRow[] {
    const v = value.toLowerCase();
    return this.csWhere(
      this.base.findDisconnectors(agent, key, value),
      (c) => c.agent === agent && c.mvId === null && !this.isExplicitDisconnect(c.id) && indexValues(key, c.attributes).includes(v),
    );
  }

  isExplicitDisconnect(csId: number): boolean {
    return csId > 0 && this.base.isExplicitDisconnect(csId);
  }

  getCsByDn(agent: string, dn: string): CsRow[] {
    const key = dnKeyOf(dn);
    return this.csWhere(this.base.getCsByDn(agent, dn), (c) => c.agent === agent && dnKeyOf(c.dn) === key);
  }

  findMv(attribute: string, value: string, objectType?: string): number[] {
    const v = value.toLowerCase();
    const out = this.base.findMv(attribute, value, objectType).filter((id) => !this.mv.has(id));
    for (const m of this.mv.values()) {
      if (m && (!objectType || m.objectType === objectType) && lookupValues(m.attributes[attribute]).includes(v)) out.push(m.id);
    }
    return out;
  }

  getPendingExport(csId: number): PendingExport | undefined {
    return this.pending.has(csId) ? (this.pending.get(csId) ?? undefined) : this.base.getPendingExport(csId);
  }

  pendingExportOperation(csId: number): PendingExport['operation'] | undefined {
    return this.pending.has(csId) ? this.pending.get(csId)?.operation : this.base.pendingExportOperation(csId);
  }

  hasDisconnectors(agent: string): boolean {
    // The base may count one a decision has linked since: saying yes costs only a search.
    return [...this.cs.values()].some((c) => c?.agent === agent && c.mvId === null) || this.base.hasDisconnectors(agent);
  }

  hasFullImport(agent: string): boolean {
    return this.base.hasFullImport(agent);
  }

  addressConflicts(): AddressConflictRow[] {
    const out = this.base.addressConflicts().filter((c) => !this.conflicts.has(`${c.mvId} ${c.agent}`));
    for (const c of this.conflicts.values()) if (c) out.push(c);
    return out;
  }

  unresolvedOf(csId: number, attribute: string): UnresolvedReference[] {
    return this.unresolved.get(`${csId} ${attribute}`) ?? (csId > 0 ? this.base.unresolvedOf(csId, attribute) : []);
  }

  unresolvedHolders(values: readonly string[]): number[] {
    return this.base.unresolvedHolders(values);
  }

  // ---- the sink ----------------------------------------------------------------------------

  apply(d: Creation): number;
  apply(d: Exclude<Decision, Creation>): void;
  apply(d: Decision): number | void {
    this.decisions.push(d);
    switch (d.kind) {
      case 'explain':
        this.trace.push(d.line);
        return;
      case 'settle-import':
        this.cs.set(d.cs.id, copyCs(this.getCs(d.cs.id) ?? d.cs, { pendingImport: null }));
        return;
      case 'remove-cs':
        this.cs.set(d.cs.id, null);
        // Its pending export goes with it, as in the store (ON DELETE CASCADE).
        if (this.getPendingExport(d.cs.id)) this.pending.set(d.cs.id, null);
        this.change('cs', d.cs.agent, d.cs.id, d.cs.anchor ?? d.cs.dn, d.operation, { dn: d.cs.dn, attributes: d.cs.attributes }, undefined);
        return;
      case 'link': {
        const now = this.getCs(d.cs.id) ?? d.cs;
        this.cs.set(
          d.cs.id,
          copyCs(now, { mvId: d.mvId, linkKind: d.linkKind, owned: d.owned, linkedRun: null, ...(d.settlesImport ? { pendingImport: null } : {}) }),
        );
        return;
      }
      case 'unlink': {
        const now = this.getCs(d.cs.id) ?? d.cs;
        this.cs.set(d.cs.id, copyCs(now, { mvId: null, linkKind: null, linkedRun: null, linkedAt: null }));
        return;
      }
      case 'create-mv': {
        const id = this.nextId--;
        this.mv.set(id, { id, objectType: d.objectType, attributes: d.attributes, sources: d.sources });
        this.change('mv', null, id, d.objectType, 'mv-add', undefined, d.attributes);
        return id;
      }
      case 'update-mv': {
        this.mv.set(d.before.id, { ...d.before, attributes: d.attributes, sources: d.sources });
        const diff = diffAttributes(d.before.attributes, d.attributes);
        this.change('mv', null, d.before.id, d.before.objectType, 'mv-update', diff.before, diff.after);
        return;
      }
      case 'delete-mv':
        this.mv.set(d.mv.id, null);
        this.change('mv', null, d.mv.id, d.mv.objectType, 'mv-delete', d.mv.attributes, { reason: d.reason });
        return;
      case 'provision': {
        const id = this.nextId--;
        const cs: CsRow = {
          id,
          agent: d.agent,
          anchor: null,
          dn: d.dn,
          objectClasses: d.objectClasses,
          attributes: d.attributes,
          pendingImport: null,
          provisioned: true,
          owned: true,
          mvId: d.mvId,
          linkKind: 'provisioning',
          linkedRun: null,
          linkedAt: null,
        };
        this.cs.set(id, cs);
        this.pending.set(id, {
          csId: id,
          agent: d.agent,
          operation: 'add',
          dn: d.dn,
          objectClasses: d.objectClasses,
          attributes: d.attributes,
          attempts: 0,
          lastError: null,
        });
        this.change('cs', d.agent, id, d.dn, 'provision', undefined, { dn: d.dn, attributes: d.attributes });
        return id;
      }
      case 'replan': {
        const before = this.getCs(d.cs.id) ?? d.cs;
        this.cs.set(d.cs.id, copyCs(before, { dn: d.dn, objectClasses: d.objectClasses, attributes: d.attributes }));
        const old = this.getPendingExport(d.cs.id);
        this.pending.set(d.cs.id, {
          csId: d.cs.id,
          agent: d.cs.agent,
          operation: 'add',
          dn: d.dn,
          objectClasses: d.objectClasses,
          attributes: d.attributes,
          attempts: old?.attempts ?? 0,
          lastError: old?.lastError ?? null,
          sentAt: old?.sentAt ?? null,
        });
        const diff = diffAttributes(before.attributes, d.attributes);
        const b: Record<string, unknown> = { ...diff.before };
        const a: Record<string, unknown> = { ...diff.after };
        if (before.dn !== d.dn) {
          b.dn = before.dn;
          a.dn = d.dn;
        }
        this.change('cs', d.cs.agent, d.cs.id, before.anchor ?? d.dn, 'provision-update', b, a);
        return;
      }
      case 'stage-export': {
        // A replacement keeps the sent mark, as the store's does: its outcome is still unknown.
        const old = this.getPendingExport(d.export.csId);
        this.pending.set(d.export.csId, { ...d.export, sentAt: old?.sentAt ?? d.export.sentAt ?? null });
        return;
      }
      case 'withdraw-export':
        this.pending.set(d.csId, null);
        return;
      case 'open-conflict':
        this.conflicts.set(`${d.mv.id} ${d.agent}`, { mvId: d.mv.id, agent: d.agent, mail: d.mail });
        this.change('mv', null, d.mv.id, d.mv.objectType, 'address-conflict', undefined, { agent: d.agent, mail: d.mail, others: d.others });
        return;
      case 'close-conflict': {
        const known = this.addressConflicts().find((c) => c.mvId === d.mv.id && c.agent === d.agent);
        this.conflicts.set(`${d.mv.id} ${d.agent}`, null);
        if (known) this.change('mv', null, d.mv.id, d.mv.objectType, 'address-conflict-resolved', { agent: d.agent, mail: known.mail }, { why: d.why });
        return;
      }
      case 'record-move':
        this.change(
          'mv',
          null,
          d.move.mailboxMv,
          d.move.mailboxLabel,
          'person-move',
          { person: d.move.personLabel },
          { entry: d.move.docDn, x500: d.move.x500 },
        );
        return;
      case 'set-unresolved':
        this.unresolved.set(`${d.csId} ${d.attribute}`, d.entries);
        return;
      case 'report':
        this.problems.push({ severity: d.severity, object: d.object, code: d.code, message: d.message, ...(d.attribute ? { attribute: d.attribute } : {}) });
        return;
    }
  }

  private change(space: 'mv' | 'cs', agent: string | null, objectId: number, objectRef: string, operation: string, before: unknown, after: unknown): void {
    this.changes.push({ runId: null, at: new Date().toISOString(), space, agent, objectId, objectRef, operation, before, after });
  }

  /** Exports the decisions stage or replace, agent by agent in the given order, and those they withdraw. */
  exports(agents: readonly string[]): { staged: PendingExport[]; withdrawn: PendingExport[] } {
    const staged: PendingExport[] = [];
    const withdrawn: PendingExport[] = [];
    for (const [csId, now] of this.pending) {
      const before = csId > 0 ? this.base.getPendingExport(csId) : undefined;
      if (now && (!before || whatItWrites(now) !== whatItWrites(before))) staged.push(now);
      if (!now && before) withdrawn.push(before);
    }
    const order = (p: PendingExport): number => agents.indexOf(p.agent) * 1e15 + (p.csId > 0 ? p.csId : 1e14 - p.csId);
    return { staged: staged.sort((a, b) => order(a) - order(b)), withdrawn: withdrawn.sort((a, b) => order(a) - order(b)) };
  }
}
