/**
 * Outbound synchronization of one metaverse object into every agent that receives its type:
 * provisioning (join first, the address check, the DN check), export flows, renames, and the add of
 * an object still waiting for its export planned again. Decides; the sink writes.
 */
import type { CsRow, MvRow } from '../../model/objects.js';
import { type AgentRules, referenceExportAttributes } from '../../config/schema.js';
import { desiredExportAttributes, exportChanges, valueDelta } from '../../rules/flows.js';
import { csIndexKey } from '../../rules/join.js';
import {
  type AddressHolder,
  addressConflictProblem,
  buildDn,
  carriedReplyAddresses,
  isOtherKind,
  keepX500,
  mailSourceAttributes,
  planNewObject,
  provisioningProblem,
  replyAddresses,
} from '../../rules/provisioning.js';
import { deprovisionAction } from '../../rules/deletion.js';
import { carriesStamp, evaluateScope } from '../../rules/scope.js';
import { parseDn, sameDn } from '../../util/dn.js';
import type { Deciding } from './deciding.js';
import type { Moves } from './migration.js';

/** Values as preview shows them: quoted, several joined with " | ", none as (none). */
export const shown = (values: readonly string[] | undefined): string => (values?.length ? `"${values.join(' | ')}"` : '(none)');

export class Outbound {
  constructor(
    private readonly d: Deciding,
    private readonly moves: Moves,
  ) {}

  /**
   * Provisioning and export flows of one MV object (by id, or as just loaded) into every agent that
   * receives its type; `connectors` when the caller knows them (a projection has one).
   */
  sync(target: number | MvRow, connectors?: readonly CsRow[]): void {
    const { d } = this;
    const mv = typeof target === 'number' ? d.view.getMv(target) : target;
    if (!mv) return;
    d.refs.touched(mv.id);
    connectors ??= d.view.connectorsOf(mv.id);
    for (const [agent, rules] of Object.entries(d.config.rules)) {
      if (rules.objectType !== mv.objectType || rules.project) continue;
      const mine = connectors.filter((c) => c.agent === agent);
      if (mine.length === 0) {
        if (this.standsThereSinceMove(mv, connectors, agent)) continue;
        if (rules.provision) this.provision(mv, agent, rules);
        else
          d.explain(
            () => d.label(mv),
            agent,
            'provisioning',
            () => `no connector in ${agent}, and rules.${agent} has no provision rule`,
          );
        continue;
      }
      d.endAddressConflict(mv, agent, `it is now connected to ${mine[0]!.dn} in ${agent}`);
      for (const c of mine) this.stageUpdate(mv, c, rules);
    }
  }

  /**
   * A mailbox whose person moved from the side `agent` writes to is represented there by the person's
   * own document: no contact is provisioned for it. Its person moves here when their document says so
   * and the move has not been made yet (the mailbox is newer than the document's change).
   */
  private standsThereSinceMove(mv: MvRow, connectors: readonly CsRow[], agent: string): boolean {
    const { d, moves } = this;
    if (!moves.migration || mv.objectType !== moves.migration.to) return false;
    let entry = moves.entryOf(mv, connectors);
    if (!entry) {
      const moved = moves.movedPersonOf(mv);
      if (!moved) return false;
      moves.move(moved.doc, moved.person, mv);
      entry = d.view.getCs(moved.doc.id);
    }
    if (!entry) return false;
    const { dn, agent: entryAgent } = entry;
    d.explain(
      () => d.label(mv),
      agent,
      'migration',
      () => `its person moved: ${dn} (${entryAgent}), their own document, stands for it, so no object is provisioned in ${agent}`,
    );
    d.endAddressConflict(mv, agent, `its person moved, and ${dn} stands for it`);
    return true;
  }

  /**
   * A person whose document says they moved, while the only others with the address are mailboxes
   * not synchronized yet: not a conflict but a move about to be made (their sync makes it, later in
   * this run), so it is not reported.
   */
  private waitsForMove(mv: MvRow, others: readonly AddressHolder[]): boolean {
    const { moves } = this;
    if (!moves.migration || mv.objectType !== moves.migration.from || others.some((o) => o.sameType || !o.unsynchronized)) return false;
    const doc = this.d.view.connectorsOf(mv.id).find((c) => moves.isSourceOfMoves(c.agent));
    return doc !== undefined && moves.hasMoved(doc);
  }

  /**
   * Holding a deletion must never force one later. A contact whose deletion is staged but not sent
   * (held by the deletion threshold, or not exported yet) and whose person comes back (a source
   * restored after a mass deletion was held, a Domino document recreated with a new UNID) is joined
   * again and its deletion withdrawn: the contact keeps its objectGUID and its X.500 address, so
   * replies to it still arrive. Returns the words the trace and the lineage say it with.
   */
  private withdrawnDeletion(cs: CsRow): string {
    if (this.d.view.pendingExportOperation(cs.id) !== 'delete') return '';
    this.d.decide({ kind: 'withdraw-export', csId: cs.id });
    return '; its staged deletion, not sent yet, is withdrawn';
  }

  /** `replaced`: the object of another kind this one takes the place of (see replaceOtherKind), whose X.500 addresses it keeps. */
  private provision(mv: MvRow, agent: string, rules: AgentRules, replaced?: CsRow): void {
    const { d } = this;
    // Into a directory never read, a hand-made contact for this person could not be joined: it would
    // get a second one. Nothing is provisioned there before the agent's first full import completes.
    if (!d.hasFullImport(agent)) {
      d.explain(
        () => d.label(mv),
        agent,
        'provisioning',
        () => `${agent} has never been imported in full: nothing is provisioned into it yet`,
      );
      return d.report(mv, {
        code: 'target-not-imported',
        message: `gets no object in ${agent} yet: ${agent} has never been imported in full, so an object that already stands there for it could not be joined. Run the initial profile (or a full import of ${agent}), then a full sync`,
      });
    }
    if (this.joinExisting(mv, agent, rules)) return;
    // A conflict is reported when found, not on every run; it stays open (dirbridge conflicts lists
    // it) until the address is no longer shared.
    const mail = mv.attributes['mail']?.[0];
    const others = this.othersWithMail(mv);
    const conflict = addressConflictProblem(mail, others);
    d.explain(
      () => d.label(mv),
      agent,
      'address-conflict',
      () => (conflict ? conflict.message : `no other object holds ${mail ?? 'its address'}`),
    );
    if (conflict && this.waitsForMove(mv, others)) {
      d.explain(
        () => d.label(mv),
        agent,
        'migration',
        () =>
          `its document says its person moved, and ${others.map((o) => o.label).join('; ')} has the address: the move is made when that mailbox is synchronized`,
      );
      return;
    }
    if (conflict) {
      if (
        d.openAddressConflict(
          mv,
          agent,
          mail!,
          others.map((o) => o.label),
        )
      )
        d.report(mv, conflict);
      return;
    }
    d.endAddressConflict(mv, agent, mail ? 'no other object holds the address any more' : 'it has no address any more');
    const members = d.refs.exportResolver();
    const planned = planNewObject(mv.attributes, rules, this.seed(mv, agent), members.resolve);
    d.explain(
      () => d.label(mv),
      agent,
      'provisioning',
      () =>
        'problem' in planned
          ? `not provisioned: ${planned.problem.attribute ? `${planned.problem.attribute}: ` : ''}${planned.problem.message}`
          : `a new object ${planned.plan.dn} with ${Object.entries(planned.plan.attributes)
              .map(([k, v]) => `${k}="${v.join(' | ')}"`)
              .join(', ')}`,
    );
    if ('problem' in planned) return d.report(mv, planned.problem);
    const { dn, objectClasses } = planned.plan;
    const attributes = replaced
      ? { ...planned.plan.attributes, ...carriedReplyAddresses(replaced.attributes, planned.plan.attributes) }
      : planned.plan.attributes;
    const taken = d.dnHolder(agent, dn);
    if (taken) {
      // Reported at the end of the step if the DN is still held then (see blockedByDn).
      d.explain(
        () => d.label(mv),
        agent,
        'provisioning',
        () => `the DN ${dn} is held by ${taken.dn}${taken.anchor ? ` (${taken.anchor})` : ''}; looked at again at the end of the step`,
      );
      d.blockedByDn.set(mv.id, { agent, dn });
      return;
    }
    d.explain(
      () => d.label(mv),
      agent,
      'provisioning',
      () =>
        d.view.getCsByDn(agent, dn).length
          ? `the DN ${dn} is held by a contact whose deletion is pending; the export deletes it before it adds this one`
          : `the DN ${dn} is free`,
    );
    const csId = d.create({
      kind: 'provision',
      agent,
      dn,
      objectClasses: objectClasses ?? [],
      attributes,
      mvId: mv.id,
      detail: `provisioned by rules.${agent}.provision${replaced ? `, in place of ${replaced.dn} (objectClass ${replaced.objectClasses.join(', ')}), which dirbridge made` : ''}`,
    });
    d.refs.deferAll(csId, dn, members.missing);
    d.stats.provisions++;
    d.stats.exportsStaged++;
  }

  /**
   * Join before provisioning: a hand-made contact for this person may already exist. True when one
   * was joined, or when several match (reported; nothing provisioned).
   */
  private joinExisting(mv: MvRow, agent: string, rules: AgentRules): boolean {
    const { d } = this;
    if (!d.mayHoldDisconnectors(agent)) return false;
    for (const [i, rule] of rules.join.entries()) {
      const found = this.joinCandidates(mv, agent, rules, i);
      if (found.length > 1) {
        d.report(mv, {
          attribute: rule.mv,
          code: 'ambiguous-join',
          message: `join rule ${i + 1} of ${agent} matches ${found.length} existing objects (${found.map((c) => c.dn).join('; ')}); nothing provisioned`,
        });
        return true;
      }
      const [only] = found;
      if (only) {
        const withdrawn = this.withdrawnDeletion(only);
        d.explain(
          () => d.label(mv),
          agent,
          'provisioning',
          () => `joins the existing ${only.dn} by join rule ${i + 1} (${rule.cs} = ${rule.mv}) instead of creating a contact${withdrawn}`,
        );
        const owned = rules.ownership ? carriesStamp(only.attributes, rules.ownership) : false;
        d.decide({
          kind: 'link',
          cs: only,
          mvId: mv.id,
          linkKind: 'join',
          owned,
          detail: `joined before provisioning by join rule ${i + 1} (${rule.cs} = ${rule.mv})${withdrawn}`,
          settlesImport: false,
        });
        d.stats.joins++;
        this.stageUpdate(mv, d.view.getCs(only.id)!, rules);
        return true;
      }
    }
    return false;
  }

  /** The disconnectors of `agent` that join rule `i` matches for this object. */
  private joinCandidates(mv: MvRow, agent: string, rules: AgentRules, i: number): CsRow[] {
    const { d } = this;
    const rule = rules.join[i]!;
    const found = new Map<number, CsRow>();
    for (const v of (mv.attributes[rule.mv] ?? []).map((x) => x.toLowerCase())) {
      for (const c of d.view.findDisconnectors(agent, csIndexKey(rule), v)) {
        // Not one the directory no longer holds (a contact deleted by hand, being disconnected as
        // this person is looked at again), nor one whose deletion may already have gone out, nor a
        // provisioned one never confirmed in the directory. One whose deletion is only staged is
        // taken back (see withdrawnDeletion), unless it is one of dirbridge's own of another kind,
        // being replaced (see replaceOtherKind).
        if (c.pendingImport === 'delete') continue;
        const pending = d.view.getPendingExport(c.id);
        if (pending?.operation === 'delete' && (pending.sentAt || c.provisioned)) continue;
        if (isOtherKind(c.objectClasses, rules) && rules.ownership && carriesStamp(c.attributes, rules.ownership)) continue;
        found.set(c.id, c);
      }
    }
    return [...found.values()];
  }

  /**
   * An object dirbridge made under other rules, of another kind than they make now (the contact
   * `groups: address` made for a group, after a switch to `mirror`; the group `mirror` made, after a
   * switch back). A directory cannot change an object's kind, so it is replaced: its deletion is staged
   * and the new object provisioned at its DN; the export deletes before it adds, and the deletion
   * threshold weighs the deletions like any others. The new object keeps the X.500 addresses of the
   * old one, so replies to mail sent to it still arrive. One dirbridge did not make (a hand-made
   * contact, joined) is left as its owners keep it, with nothing written to it.
   */
  private replaceOtherKind(mv: MvRow, c: CsRow, rules: AgentRules): void {
    const { d } = this;
    const makes = (rules.provision?.objectClasses ?? []).join(', ');
    const is = `objectClass ${c.objectClasses.join(', ')}`;
    const action = deprovisionAction(c, rules);
    if (action.kind !== 'delete') {
      d.explain(
        c.dn,
        c.agent,
        'provisioning',
        () => `it is of another kind (${is}) than rules.${c.agent}.provision makes (${makes}), and ${action.reason}: nothing is written to it`,
      );
      if (d.view.getPendingExport(c.id)) d.decide({ kind: 'withdraw-export', csId: c.id });
      if (action.warning) d.warning(c.dn, rules.ownership?.attribute, 'ownership-stamp-missing', action.warning);
      return;
    }
    const reason = `replaced: dirbridge made it with ${is}, and rules.${c.agent}.provision now makes ${makes}; the new object takes its DN once it is deleted`;
    d.explain(c.dn, c.agent, 'provisioning', () => reason);
    d.unlink(c, 'deprovision', reason);
    d.decide({ kind: 'stage-export', export: { csId: c.id, agent: c.agent, operation: 'delete', dn: c.dn, attempts: 0, lastError: null } });
    d.stats.exportsStaged++;
    this.provision(mv, c.agent, rules, c);
  }

  /**
   * An add not sent yet, while an existing object now matches a join rule (the old object of a
   * replacement whose deletion is still held, back in kind after a switch back; a hand-made one
   * imported meanwhile): the add is cancelled and that object joined, so that holding a deletion
   * never forces one later, and no second object is made beside one already there.
   */
  private joinsInsteadOfAdd(mv: MvRow, c: CsRow, rules: AgentRules): boolean {
    const { d } = this;
    if (!d.mayHoldDisconnectors(c.agent)) return false;
    const first = rules.join.map((_, i) => this.joinCandidates(mv, c.agent, rules, i)).find((found) => found.length > 0);
    if (first?.length !== 1) return false;
    d.explain(c.dn, c.agent, 'provisioning', () => `its add, not sent yet, is cancelled: ${first[0]!.dn} stands there for it and is joined instead`);
    d.unlink(c, 'deprovision', `provisioned but never exported; ${first[0]!.dn} is joined instead`);
    d.decide({ kind: 'remove-cs', cs: d.view.getCs(c.id)!, operation: 'provision-cancel' });
    return this.joinExisting(mv, c.agent, rules);
  }

  /**
   * Who else has this object's mail: other MV objects (of the other type: a person being migrated; of
   * the same type: one address on two people), and, so that the order of the sync steps does not
   * matter, in-scope source objects not yet synced.
   */
  private othersWithMail(mv: MvRow): AddressHolder[] {
    const { d } = this;
    const mail = mv.attributes['mail']?.[0];
    if (!mail) return [];
    const found = new Map<string, AddressHolder>();
    for (const id of d.view.findMv('mail', mail)) {
      const other = id === mv.id ? undefined : d.view.getMv(id);
      if (other) found.set(d.label(other), { label: d.label(other), sameType: other.objectType === mv.objectType });
    }
    for (const [agent, rules] of Object.entries(d.config.rules)) {
      if (!rules.project) continue;
      for (const attr of mailSourceAttributes(rules)) {
        // Only disconnectors: a linked object is already a metaverse object, found above.
        for (const c of d.view.findDisconnectors(agent, attr.toLowerCase(), mail)) {
          // Not one the directory no longer holds (a mailbox deleted, its removal being synchronized).
          if (c.pendingImport === 'delete' || !evaluateScope(c.attributes, rules.scope, d.stamps).inScope) continue;
          const label = `${rules.objectType} ${c.dn} (${agent}, not yet synchronized)`;
          found.set(label, { label, sameType: rules.objectType === mv.objectType, unsynchronized: true });
        }
      }
    }
    return [...found.values()];
  }

  /**
   * What names the person an object is provisioned for, for good: the target agent and the anchor of
   * the person's own document in its source (a new metaverse object for the same person gives the
   * same). The metaverse id only when no source is linked (never for a projected person).
   */
  private seed(mv: MvRow, agent: string): string {
    const source = this.d.view.connectorsOf(mv.id).find((c) => this.d.config.rules[c.agent]?.project);
    return source ? `${agent}\u0000${source.agent}\u0000${source.anchor ?? source.dn}` : `${agent}\u0000mv\u0000${mv.id}`;
  }

  /** Per agent, the connector attributes its export flows write as references (looked up once, not per object). */
  private readonly referenceAttributesByAgent = new Map<string, ReadonlySet<string>>();

  private referenceAttributes(agent: string, rules: AgentRules): ReadonlySet<string> {
    let attrs = this.referenceAttributesByAgent.get(agent);
    if (!attrs) this.referenceAttributesByAgent.set(agent, (attrs = new Set(referenceExportAttributes(rules))));
    return attrs;
  }

  stageUpdate(mv: MvRow, c: CsRow, rules: AgentRules): void {
    const { d } = this;
    const pending = d.view.getPendingExport(c.id);
    if (pending?.operation === 'delete') return;
    if (c.provisioned) {
      // An add sent with an unknown outcome may stand in the directory under its planned DN: let the
      // export settle it first; later changes follow as updates.
      if (pending?.sentAt) return;
      if (this.joinsInsteadOfAdd(mv, c, rules)) return;
      // Still waiting for its add: re-plan the add with the latest values.
      const members = d.refs.exportResolver();
      const planned = planNewObject(mv.attributes, rules, this.seed(mv, c.agent), members.resolve);
      d.refs.deferAll(c.id, c.dn, members.missing);
      d.explain(c.dn, c.agent, 'provisioning', () =>
        'problem' in planned
          ? `waiting for its first export, and can no longer be planned: ${planned.problem.message}`
          : `waiting for its first export: the add is planned again with the latest values (${planned.plan.dn})`,
      );
      if ('problem' in planned) return d.report(mv, planned.problem);
      const p = planned.plan;
      // The X.500 addresses it took over from an object it replaces (see replaceOtherKind) stay planned.
      const attributes = { ...p.attributes, ...carriedReplyAddresses(c.attributes, p.attributes) };
      d.decide({ kind: 'replan', cs: c, dn: p.dn, objectClasses: p.objectClasses ?? [], attributes });
      return;
    }
    if (isOtherKind(c.objectClasses, rules)) return this.replaceOtherKind(mv, c, rules);
    // A group dirbridge did not create (a hand-made one with the same address, joined) is left as its
    // owners keep it: its members are theirs.
    if (!c.owned && this.referenceAttributes(c.agent, rules).size) {
      d.explain(
        c.dn,
        c.agent,
        'export-flow',
        () => `joined, not created by dirbridge (no ${rules.ownership?.attribute ?? 'ownership'} stamp): a group is changed only when dirbridge made it`,
      );
      if (pending) d.decide({ kind: 'withdraw-export', csId: c.id });
      return;
    }
    if (rules.provision) {
      const problem = provisioningProblem(mv.attributes, rules.provision.require);
      if (problem) return d.report(mv, problem);
    }
    const members = d.refs.exportResolver();
    const desired = desiredExportAttributes(mv.attributes, rules.exportFlows, members.resolve);
    d.refs.deferAll(c.id, c.dn, members.missing);
    if (desired['proxyaddresses']) desired['proxyaddresses'] = keepX500(c.attributes['proxyaddresses'] ?? [], desired['proxyaddresses']);
    // A contact dirbridge made before its rule stamped a legacyExchangeDN gets one now; one that has
    // one keeps it for good (renames included), and a joined hand-made contact keeps its own.
    if (c.owned && !c.attributes['legacyexchangedn']?.length) Object.assign(desired, replyAddresses(rules, this.seed(mv, c.agent), desired));
    // The RDN attribute changes only through a rename.
    const skip = new Set([parseDn(c.dn)[0]!.attribute.toLowerCase()]);
    let newDn: string | null = null;
    if (c.owned && rules.provision) {
      const built = buildDn(rules.provision.dn, mv.attributes);
      if ('problem' in built) return d.report(mv, built.problem);
      if (!sameDn(built.dn, c.dn)) {
        const taken = d.dnHolder(c.agent, built.dn, c.id);
        if (taken) return d.report(mv, { code: 'dn-collision', message: `cannot rename ${c.dn} to ${built.dn}: the DN is already used in ${c.agent}` });
        newDn = built.dn;
      }
    }
    const refs = this.referenceAttributes(c.agent, rules);
    const changes = exportChanges(c.attributes, desired, new Set([...skip, ...refs]));
    // Lists of references (a group's members) are written as what changed in them, never replaced whole.
    const deltas = new Map<string, { added: string[]; removed: string[] }>();
    for (const attr of refs) {
      if (skip.has(attr)) continue;
      const delta = valueDelta(c.attributes[attr] ?? [], desired[attr] ?? []);
      if (!delta.added.length && !delta.removed.length) continue;
      deltas.set(attr, delta);
      changes[attr] = desired[attr] ?? [];
    }
    if (d.tracing) {
      for (const attr of Object.keys(desired)) {
        if (skip.has(attr)) continue;
        d.explain(c.dn, c.agent, 'export-flow', () =>
          attr in changes ? `${attr}: ${shown(c.attributes[attr])} -> ${shown(changes[attr])}` : `${attr}: unchanged (${shown(desired[attr])})`,
        );
      }
      if (newDn) d.explain(c.dn, c.agent, 'export-flow', () => `renamed to ${newDn} (rules.${c.agent}.provision.dn)`);
    }
    if (!Object.keys(changes).length && !newDn) {
      if (pending) d.decide({ kind: 'withdraw-export', csId: c.id });
      return;
    }
    const detailed = Object.fromEntries(
      Object.entries(changes).map(([k, after]) => {
        const before = c.attributes[k] ?? [];
        const delta = deltas.get(k);
        return [k, delta ? { before, after, ...delta } : { before, after }];
      }),
    );
    d.decide({
      kind: 'stage-export',
      export: { csId: c.id, agent: c.agent, operation: 'update', dn: c.dn, newDn, changes: detailed, attempts: 0, lastError: null },
    });
    d.stats.exportsStaged++;
  }
}
