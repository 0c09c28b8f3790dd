/**
 * Synchronization: connector-space objects through the rules into the metaverse (scope, join or
 * projection, import flows, deletion rules) and back out as pending exports (provisioning, export
 * flows, deprovisioning). Rules decide; this module only fetches their inputs and stores their outputs.
 */
import type { AgentRules } from '../config/schema.js';
import type { CsRow, MvRow } from '../metaverse/types.js';
import { deletesMvObject, deprovisionAction } from '../rules/deletion.js';
import { applyImportFlows, desiredExportAttributes, exportChanges, removeContributions } from '../rules/flows.js';
import { csIndexKey, decideJoin, joinValues } from '../rules/join.js';
import { type AddressHolder, addressConflictProblem, buildDn, mailSourceAttributes, planNewObject, provisioningProblem, type Problem } from '../rules/provisioning.js';
import { carriesStamp, evaluateScope } from '../rules/scope.js';
import { normalizeDn, parseDn } from '../util/dn.js';
import type { StepContext } from './context.js';

const BATCH = 500;

/** Values as preview shows them: quoted, several joined with " | ", none as (none). */
const shown = (values: readonly string[] | undefined): string => (values?.length ? `"${values.join(' | ')}"` : '(none)');

/** Every connector-space object of the agent through the rules: after a rule change, or nightly. */
export function runFullSync(ctx: StepContext): void {
  // An object provisioned here and waiting for its first export has nothing to synchronize (the sync
  // of its metaverse object plans its add): counted as unchanged without being read. In a first
  // synchronization that is every contact.
  const { waiting, others } = ctx.store.csIdsForFullSync(ctx.agent);
  ctx.stats.unchanged += waiting;
  syncObjects(ctx, others);
}

/** Only objects with an imported change not yet synchronized, and the metaverse objects they touch. */
export function runDeltaSync(ctx: StepContext): void {
  syncObjects(ctx, ctx.store.pendingImportIds(ctx.agent));
}

function syncObjects(ctx: StepContext, ids: number[]): void {
  const sync = new Synchronizer(ctx);
  const todo = ids.slice(0, ctx.objectLimit ?? ids.length);
  for (let i = 0; i < todo.length; i += BATCH) {
    sync.syncBatch(todo.slice(i, i + BATCH));
    ctx.progress(Math.min(i + BATCH, todo.length), todo.length);
    ctx.checkErrorLimit();
  }
  ctx.store.transaction(() => {
    sync.recheckBlockedByDn();
    sync.recheckAddressConflicts();
  });
  ctx.checkObjectLimit(todo.length, 'objects synchronized', ids.length);
}

export class Synchronizer {
  private readonly stamps: { attribute: string; value: string }[];
  private readonly agentOrder: string[];
  /** Open address conflicts ("mvId agent"), so that ending one costs nothing where there is none. */
  private conflicted!: Set<string>;

  constructor(private readonly ctx: StepContext) {
    this.stamps = Object.values(ctx.config.rules).flatMap((r) => (r.ownership ? [r.ownership] : []));
    this.agentOrder = Object.keys(ctx.config.agents);
    this.loadConflicts();
  }

  private loadConflicts(): void {
    this.conflicted = new Set(this.store.addressConflicts().map((c) => `${c.mvId} ${c.agent}`));
  }

  /**
   * Syncs a batch in one transaction. A savepoint per object cost more than most objects' own work,
   * so the batch first runs without them; only when an object fails is the batch rolled back (with
   * the step's counters and reports) and run again object by object, so that the failure costs that
   * object alone, as before.
   */
  syncBatch(ids: readonly number[]): void {
    try {
      this.ctx.allOrNothing(() =>
        this.store.transaction(() => {
          for (const id of ids) {
            const cs = this.store.getCs(id);
            if (cs) this.syncObject(cs);
          }
        }),
      );
    } catch {
      this.loadConflicts(); // the rollback undid what the batch recorded
      this.disconnectorsIn.clear(); // and may have made disconnectors of objects it had linked
      this.store.transaction(() => {
        for (const id of ids) this.syncOne(id);
      });
    }
  }

  /**
   * An address conflict ends when one side goes, wherever that is synchronized: every object still
   * waiting on one is looked at again at the end of each sync step, and gets its contact if it can.
   */
  recheckAddressConflicts(): void {
    for (const mvId of new Set(this.store.addressConflicts().map((c) => c.mvId))) this.outbound(mvId);
  }

  /**
   * Objects whose contact's DN was held by another object when they were provisioned in this step. A
   * Domino document recreated with a new UNID (same name, same address) is a new person beside an old
   * one that is gone: whichever of the two is synced first, the old contact's deletion is staged in
   * the same step, and the new person is looked at again at its end. The export sends deletions before
   * adds and renames, so the DN is free when the add goes out: one cycle, no dn-collision.
   */
  private readonly blockedByDn = new Map<number, { agent: string; dn: string; dnKey: string }>();

  recheckBlockedByDn(): void {
    const blocked = [...this.blockedByDn];
    this.blockedByDn.clear();
    for (const [mvId, { agent, dn, dnKey }] of blocked) {
      const mv = this.store.getMv(mvId);
      if (!mv) continue;
      if (!this.dnHolder(agent, dnKey)) this.outbound(mv);
      else this.report(mv, { code: 'dn-collision', message: `the contact's DN ${dn} is already used in ${agent} by another object; not provisioned` });
    }
  }

  /**
   * The object of `agent` holding a DN, leaving out one whose deletion is staged or that the directory
   * no longer holds (its removal from the connector space follows): that DN is as good as free.
   */
  private dnHolder(agent: string, dnKey: string, except?: number): CsRow | undefined {
    return this.store.getCsByDnKey(agent, dnKey).find((o) => o.id !== except && o.pendingImport !== 'delete' && this.store.pendingExportOperation(o.id) !== 'delete');
  }

  /**
   * Holding a deletion must never force one later. A contact whose deletion is staged but not sent
   * (held by the deletion threshold, or not exported yet) and whose person comes back (a source
   * restored after a mass deletion was held, a Domino document recreated with a new UNID) is joined
   * again and its deletion withdrawn: the contact keeps its objectGUID and its X.500 address, so
   * replies to it still arrive. Returns the words the trace and the lineage say it with.
   */
  private withdrawnDeletion(cs: CsRow): string {
    if (this.store.pendingExportOperation(cs.id) !== 'delete') return '';
    this.store.removePendingExport(cs.id);
    return '; its staged deletion, not sent yet, is withdrawn';
  }

  private endAddressConflict(mv: MvRow, agent: string, why: string): void {
    if (this.conflicted.delete(`${mv.id} ${agent}`)) this.store.closeAddressConflict(this.ref, mv, agent, why);
  }

  /**
   * Whether an agent may hold disconnectors (objects linked to nothing), asked once per agent and
   * step: a contact agent usually holds none, and then provisioning need not search it for a
   * hand-made contact to join, three queries per person. Only an unlink in this step can add one
   * (imports do not run during a sync, and the run lock keeps other processes out), or the rollback
   * of a failed batch, which forgets what was known. Asking costs a scan of the agent's objects when
   * it has none: asked as well for the source agents in the address check, it doubled the 10-change
   * delta cycle at 1,000,000 people per side (measured), so that check searches them regardless.
   */
  private readonly disconnectorsIn = new Map<string, boolean>();

  private mayHoldDisconnectors(agent: string): boolean {
    let may = this.disconnectorsIn.get(agent);
    if (may === undefined) this.disconnectorsIn.set(agent, (may = this.store.hasDisconnectors(agent)));
    return may;
  }

  private unlink(cs: CsRow, event: string, detail: string): void {
    this.store.unlink(this.ref, cs, event, detail);
    this.disconnectorsIn.set(cs.agent, true);
  }

  private get store() {
    return this.ctx.store;
  }

  private get ref() {
    return this.ctx.ref;
  }

  /** Syncs one connector-space object; a failure rolls back that object only. */
  syncOne(id: number): void {
    const cs = this.store.getCs(id);
    if (!cs) return;
    try {
      this.store.transaction(() => this.syncObject(cs));
    } catch (e) {
      this.ctx.error(cs.dn, undefined, 'sync-failed', (e as Error).message);
    }
  }

  private syncObject(cs: CsRow): void {
    const { stats } = this.ctx;
    if (cs.pendingImport === 'delete') {
      this.ctx.explain(cs.dn, cs.agent, 'connector', () => `gone from the directory${cs.mvId === null ? '; not linked to a metaverse object, so only the connector-space object is removed' : ': disconnected from its metaverse object'}`);
      if (cs.mvId !== null) this.disconnect(cs, 'deleted from the directory');
      this.store.deleteCs(this.ref, this.store.getCs(cs.id)!, 'cs-delete');
      stats.deletes++;
      return;
    }
    const rules = this.ctx.config.rules[cs.agent];
    if (!rules || cs.provisioned || this.store.pendingExportOperation(cs.id) === 'delete') {
      this.ctx.explain(cs.dn, cs.agent, 'connector', () => (!rules ? `the agent has no rules: nothing to do` : cs.provisioned ? 'created by dirbridge and not exported yet: it waits for its export' : 'its deletion is pending export: nothing to do'));
      this.finish(cs);
      stats.unchanged++;
      return;
    }
    const scope = evaluateScope(cs.attributes, rules.scope, rules.project ? this.stamps : []);
    this.ctx.explain(cs.dn, cs.agent, 'scope', () => `${scope.inScope ? 'in scope' : 'out of scope'}: ${scope.reason}${!scope.inScope && cs.mvId !== null ? '; disconnected from its metaverse object' : ''}`);
    if (!scope.inScope) {
      if (cs.mvId !== null) this.disconnect(cs, `out of scope (${scope.reason})`);
      else stats.filtered++;
      this.finish(cs);
      return;
    }

    let mvId = cs.mvId;
    let linkedNow = false;
    if (mvId !== null) this.ctx.explain(cs.dn, cs.agent, 'join', () => `already linked to ${this.label(this.store.getMv(mvId!)!)} (${cs.linkKind ?? 'link'}${cs.linkedRun ? ` in run ${cs.linkedRun}` : ''})`);
    else {
      const joined = this.joinOrProject(cs, rules);
      if (joined === null) {
        this.finish(cs);
        return;
      }
      if (joined.projected) {
        // A projection is created with its flowed values: nothing is left to update. Its only
        // connector is this one, of an agent that projects, which outbound passes over.
        this.finish(cs);
        this.outbound(joined.projected, [cs]);
        return;
      }
      mvId = joined.mvId;
      linkedNow = true;
    }
    const mv = this.store.getMv(mvId)!;
    const flowed = applyImportFlows(mv, cs.agent, cs.attributes, rules.importFlows, (a) => this.precedence(a));
    if (this.ctx.tracer) this.explainImportFlows(cs, rules, mv, flowed);
    let now = mv;
    if (flowed.changed.length) {
      this.store.updateMv(this.ref, mv, flowed.attributes, flowed.sources);
      now = { ...mv, attributes: flowed.attributes, sources: flowed.sources };
      if (!linkedNow) stats.updates++;
    } else if (!linkedNow) stats.unchanged++;
    this.finish(cs);
    this.outbound(now);
  }

  private explainImportFlows(cs: CsRow, rules: AgentRules, mv: MvRow, flowed: ReturnType<typeof applyImportFlows>): void {
    for (const [attr, flow] of Object.entries(rules.importFlows)) {
      const from = typeof flow === 'string' ? flow : 'first' in flow ? `the first of ${flow.first.join(', ')}` : 'template' in flow ? `template "${flow.template}"` : `constant "${flow.constant}"`;
      const before = shown(mv.attributes[attr]);
      const after = shown(flowed.attributes[attr]);
      this.ctx.explain(cs.dn, cs.agent, 'import-flow', () =>
        flowed.overridden.includes(attr) ? `${attr} from ${from}: not applied, ${mv.sources[attr]} has precedence (keeps ${before})`
        : flowed.changed.includes(attr) ? `${attr} from ${from}: ${before} -> ${after}`
        : `${attr} from ${from}: unchanged (${after})`);
    }
  }

  private finish(cs: CsRow): void {
    if (cs.pendingImport !== null) this.store.setPendingImport(cs.id, null);
  }

  private precedence(mvAttribute: string): readonly string[] {
    return this.ctx.config.metaverse.precedence[mvAttribute] ?? this.agentOrder;
  }

  /** The MV object the CS object joined, or the one it projected (created with its flowed values); null: neither. */
  private joinOrProject(cs: CsRow, rules: AgentRules): { mvId: number; projected?: undefined } | { projected: MvRow } | null {
    const candidates = rules.join.map((rule) =>
      joinValues(cs.attributes, rule)
        .flatMap((v) => this.store.findMv(rule.mv, v, rules.objectType))
        // One connector per agent: an MV object already represented here is not a join target.
        .filter((mvId) => !this.store.connectorsOf(mvId).some((c) => c.agent === cs.agent)),
    );
    const decision = decideJoin(rules.join, candidates);
    this.ctx.explain(cs.dn, cs.agent, 'join', () => (decision.kind === 'none' ? `${decision.reason}${rules.project ? '' : '; the agent does not project, so the object stays a disconnector'}` : decision.kind === 'join' ? `${decision.reason}: joins ${this.label(this.store.getMv(decision.target)!)}` : `${decision.reason}: not joined, reported`));
    if (decision.kind === 'join') {
      const owned = rules.ownership ? carriesStamp(cs.attributes, rules.ownership) : false;
      this.linkSynchronized(cs, decision.target, 'join', owned, decision.reason + (owned ? "; carries dirbridge's ownership stamp" : ''));
      this.ctx.stats.joins++;
      return { mvId: decision.target };
    }
    if (decision.kind === 'ambiguous') {
      this.ctx.error(cs.dn, rules.join[decision.rule]?.cs, 'ambiguous-join', `${decision.reason} (${rules.objectType} ${decision.candidates.map((c) => `#${c}`).join(', ')}); not joined`);
      return null;
    }
    if (!rules.project) return null;
    this.ctx.explain(cs.dn, cs.agent, 'projection', () => `projected as a new ${rules.objectType}`);
    const empty: MvRow = { id: 0, objectType: rules.objectType, attributes: {}, sources: {} };
    const flowed = applyImportFlows(empty, cs.agent, cs.attributes, rules.importFlows, (a) => this.precedence(a));
    const id = this.store.createMv(this.ref, rules.objectType, flowed.attributes, flowed.sources);
    const mv: MvRow = { id, objectType: rules.objectType, attributes: flowed.attributes, sources: flowed.sources };
    this.linkSynchronized(cs, id, 'projection', false, `projected as ${rules.objectType}`);
    if (this.ctx.tracer) this.explainImportFlows(cs, rules, { ...empty, id }, flowed);
    this.ctx.stats.projections++;
    return { projected: mv };
  }

  /**
   * Links the object being synchronized, its imported change settled by the same write (finish then
   * has nothing left to do). Safe before the rest of its sync: that runs in the same transaction.
   */
  private linkSynchronized(cs: CsRow, mvId: number, kind: 'join' | 'projection', owned: boolean, detail: string): void {
    this.store.link(this.ref, cs, mvId, kind, owned, detail, true);
    cs.pendingImport = null;
  }

  private disconnect(cs: CsRow, reason: string): void {
    const mvId = cs.mvId!;
    this.unlink(cs, 'disconnect', reason);
    this.ctx.stats.disconnects++;
    const mv = this.store.getMv(mvId);
    if (!mv) return;
    const type = this.ctx.config.metaverse.objectTypes[mv.objectType];
    const deletes = Boolean(type && deletesMvObject(type.deleteWhenDisconnectedFrom, cs.agent));
    this.ctx.explain(() => this.label(mv), cs.agent, 'deletion', () =>
      deletes ? `metaverse.objectTypes.${mv.objectType}.deleteWhenDisconnectedFrom names ${cs.agent}: the ${mv.objectType} is deleted` : `${mv.objectType} objects are not deleted when ${cs.agent} disconnects: its contributions are removed`);
    if (deletes) {
      this.deleteMvObject(mv, `its connector in ${cs.agent} was ${reason}`);
      return;
    }
    const left = removeContributions(mv, cs.agent);
    if (Object.keys(left.attributes).length !== Object.keys(mv.attributes).length) this.store.updateMv(this.ref, mv, left.attributes, left.sources);
    this.outbound(mvId);
  }

  private deleteMvObject(mv: MvRow, reason: string): void {
    for (const c of this.store.connectorsOf(mv.id)) {
      const rules = this.ctx.config.rules[c.agent];
      if (c.provisioned) {
        const add = this.store.getPendingExport(c.id);
        if (add?.sentAt) {
          // Its add was sent and the run died before the result was known: it may exist, so delete it
          // (deleting what is not there counts as done) rather than forget it.
          this.unlink(c, 'deprovision', 'its add was sent with an unknown outcome; a delete is staged in case it exists');
          this.store.putPendingExport(this.ref, { csId: c.id, agent: c.agent, operation: 'delete', dn: add.dn, attempts: 0, lastError: null });
          this.ctx.stats.exportsStaged++;
          continue;
        }
        // Never exported: nothing to remove from the directory.
        this.unlink(c, 'deprovision', 'provisioned but never exported; discarded');
        this.store.deleteCs(this.ref, this.store.getCs(c.id)!, 'provision-cancel');
        continue;
      }
      const action = deprovisionAction(c, rules);
      this.ctx.explain(c.dn, c.agent, 'deprovisioning', () => `${action.kind === 'delete' ? 'delete staged' : 'disconnected, left in the directory'}: ${action.reason}`);
      if (action.kind === 'delete') {
        this.unlink(c, 'deprovision', action.reason);
        this.store.putPendingExport(this.ref, { csId: c.id, agent: c.agent, operation: 'delete', dn: c.dn, attempts: 0, lastError: null });
        this.ctx.stats.exportsStaged++;
      } else {
        this.unlink(c, 'disconnect', action.reason);
        this.store.removePendingExport(c.id);
        if (action.warning) this.ctx.warning(c.dn, rules?.ownership?.attribute, 'ownership-stamp-missing', action.warning);
      }
    }
    for (const agent of Object.keys(this.ctx.config.rules)) this.endAddressConflict(mv, agent, 'the object itself is gone');
    this.store.deleteMv(this.ref, mv, reason);
    this.ctx.stats.deletes++;
  }

  /**
   * Provisioning and export flows of one MV object (by id, or as just loaded) into every agent that
   * receives its type; `connectors` when the caller knows them (a projection has one).
   */
  outbound(target: number | MvRow, connectors?: readonly CsRow[]): void {
    const mv = typeof target === 'number' ? this.store.getMv(target) : target;
    if (!mv) return;
    connectors ??= this.store.connectorsOf(mv.id);
    for (const [agent, rules] of Object.entries(this.ctx.config.rules)) {
      if (rules.objectType !== mv.objectType || rules.project) continue;
      const mine = connectors.filter((c) => c.agent === agent);
      if (mine.length === 0) {
        if (rules.provision) this.provision(mv, agent, rules);
        else this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => `no connector in ${agent}, and rules.${agent} has no provision rule`);
        continue;
      }
      this.endAddressConflict(mv, agent, `it is now connected to ${mine[0]!.dn} in ${agent}`);
      for (const c of mine) this.stageUpdate(mv, c, rules);
    }
  }

  private label(mv: MvRow): string {
    const source = this.store.connectorsOf(mv.id).find((c) => this.ctx.config.rules[c.agent]?.project);
    return source ? `${mv.objectType} ${source.dn} (${source.agent})` : `${mv.objectType} #${mv.id}`;
  }

  private report(mv: MvRow, p: Problem): void {
    this.ctx.error(this.label(mv), p.attribute, p.code, p.message);
  }

  /** Agents whose directory has been read in full at least once, asked once per agent and step. */
  private readonly importedOnce = new Map<string, boolean>();

  private provision(mv: MvRow, agent: string, rules: AgentRules): void {
    // Into a directory never read, a hand-made contact for this person could not be joined: it would
    // get a second one. Nothing is provisioned there before the agent's first full import completes.
    let imported = this.importedOnce.get(agent);
    if (imported === undefined) this.importedOnce.set(agent, (imported = this.store.hasFullImport(agent)));
    if (!imported) {
      this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => `${agent} has never been imported in full: nothing is provisioned into it yet`);
      return this.report(mv, { code: 'target-not-imported', message: `gets no object in ${agent} yet: ${agent} has never been imported in full, so an object that already stands there for it could not be joined. Run the initial profile (or a full import of ${agent}), then a full sync` });
    }
    // Join before provisioning: a hand-made contact for this person may already exist.
    for (const [i, rule] of this.mayHoldDisconnectors(agent) ? rules.join.entries() : []) {
      const found = new Map<number, CsRow>();
      for (const v of (mv.attributes[rule.mv] ?? []).map((x) => x.toLowerCase())) {
        for (const c of this.store.findDisconnectors(agent, csIndexKey(rule), v)) {
          // Not one the directory no longer holds (a contact deleted by hand, being disconnected as
          // this person is looked at again), nor one whose deletion may already have gone out, nor a
          // provisioned one never confirmed in the directory. One whose deletion is only staged is
          // taken back (see withdrawnDeletion).
          if (c.pendingImport === 'delete') continue;
          const pending = this.store.getPendingExport(c.id);
          if (pending?.operation === 'delete' && (pending.sentAt || c.provisioned)) continue;
          found.set(c.id, c);
        }
      }
      if (found.size > 1) {
        this.report(mv, { attribute: rule.mv, code: 'ambiguous-join', message: `join rule ${i + 1} of ${agent} matches ${found.size} existing objects (${[...found.values()].map((c) => c.dn).join('; ')}); nothing provisioned` });
        return;
      }
      const [only] = found.values();
      if (only) {
        const withdrawn = this.withdrawnDeletion(only);
        this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => `joins the existing ${only.dn} by join rule ${i + 1} (${rule.cs} = ${rule.mv}) instead of creating a contact${withdrawn}`);
        const owned = rules.ownership ? carriesStamp(only.attributes, rules.ownership) : false;
        this.store.link(this.ref, only, mv.id, 'join', owned, `joined before provisioning by join rule ${i + 1} (${rule.cs} = ${rule.mv})${withdrawn}`);
        this.ctx.stats.joins++;
        this.stageUpdate(mv, this.store.getCs(only.id)!, rules);
        return;
      }
    }
    // A conflict is reported when found, not on every run; it stays open (dirbridge conflicts lists
    // it) until the address is no longer shared.
    const mail = mv.attributes['mail']?.[0];
    const others = this.othersWithMail(mv);
    const conflict = addressConflictProblem(mail, others);
    this.ctx.explain(() => this.label(mv), agent, 'address-conflict', () => (conflict ? conflict.message : `no other object holds ${mail ?? 'its address'}`));
    if (conflict) {
      if (this.store.openAddressConflict(this.ref, mv, agent, mail!, others.map((o) => o.label))) {
        this.conflicted.add(`${mv.id} ${agent}`);
        this.report(mv, conflict);
      }
      return;
    }
    this.endAddressConflict(mv, agent, mail ? 'no other object holds the address any more' : 'it has no address any more');
    const planned = planNewObject(mv.attributes, rules);
    this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => ('problem' in planned ? `not provisioned: ${planned.problem.attribute ? `${planned.problem.attribute}: ` : ''}${planned.problem.message}` : `a new object ${planned.plan.dn} with ${Object.entries(planned.plan.attributes).map(([k, v]) => `${k}="${v.join(' | ')}"`).join(', ')}`));
    if ('problem' in planned) return this.report(mv, planned.problem);
    const { dn, objectClasses, attributes } = planned.plan;
    const dnKey = normalizeDn(dn);
    const taken = this.dnHolder(agent, dnKey);
    if (taken) {
      // Reported at the end of the step if the DN is still held then (see blockedByDn).
      this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => `the DN ${dn} is held by ${taken.dn}${taken.anchor ? ` (${taken.anchor})` : ''}; looked at again at the end of the step`);
      this.blockedByDn.set(mv.id, { agent, dn, dnKey });
      return;
    }
    this.ctx.explain(() => this.label(mv), agent, 'provisioning', () => this.store.getCsByDnKey(agent, dnKey).length ? `the DN ${dn} is held by a contact whose deletion is pending; the export deletes it before it adds this one` : `the DN ${dn} is free`);
    this.store.insertProvisioned(this.ref, { agent, dn, dnKey, objectClasses: objectClasses ?? [], attributes }, mv.id, `provisioned by rules.${agent}.provision`);
    this.ctx.stats.provisions++;
    this.ctx.stats.exportsStaged++;
  }

  /**
   * Who else has this object's mail: other MV objects (of the other type: a person being migrated; of
   * the same type: one address on two people), and, so that the order of the sync steps does not
   * matter, in-scope source objects not yet synced.
   */
  private othersWithMail(mv: MvRow): AddressHolder[] {
    const mail = mv.attributes['mail']?.[0];
    if (!mail) return [];
    const found = new Map<string, AddressHolder>();
    for (const id of this.store.findMv('mail', mail)) {
      const other = id === mv.id ? undefined : this.store.getMv(id);
      if (other) found.set(this.label(other), { label: this.label(other), sameType: other.objectType === mv.objectType });
    }
    for (const [agent, rules] of Object.entries(this.ctx.config.rules)) {
      if (!rules.project) continue;
      for (const attr of mailSourceAttributes(rules)) {
        // Only disconnectors: a linked object is already a metaverse object, found above.
        for (const c of this.store.findDisconnectors(agent, attr.toLowerCase(), mail)) {
          if (!evaluateScope(c.attributes, rules.scope, this.stamps).inScope) continue;
          const label = `${rules.objectType} ${c.dn} (${agent}, not yet synchronized)`;
          found.set(label, { label, sameType: rules.objectType === mv.objectType });
        }
      }
    }
    return [...found.values()];
  }

  private stageUpdate(mv: MvRow, c: CsRow, rules: AgentRules): void {
    const pending = this.store.getPendingExport(c.id);
    if (pending?.operation === 'delete') return;
    if (c.provisioned) {
      // An add sent with an unknown outcome may stand in the directory under its planned DN: let the
      // export settle it first; later changes follow as updates.
      if (pending?.sentAt) return;
      // Still waiting for its add: re-plan the add with the latest values.
      const planned = planNewObject(mv.attributes, rules);
      this.ctx.explain(c.dn, c.agent, 'provisioning', () => ('problem' in planned ? `waiting for its first export, and can no longer be planned: ${planned.problem.message}` : `waiting for its first export: the add is planned again with the latest values (${planned.plan.dn})`));
      if ('problem' in planned) return this.report(mv, planned.problem);
      const p = planned.plan;
      this.store.replanProvisioned(this.ref, c, { dn: p.dn, dnKey: normalizeDn(p.dn), objectClasses: p.objectClasses ?? [], attributes: p.attributes });
      return;
    }
    if (rules.provision) {
      const problem = provisioningProblem(mv.attributes, rules.provision.require);
      if (problem) return this.report(mv, problem);
    }
    const desired = desiredExportAttributes(mv.attributes, rules.exportFlows);
    // The RDN attribute changes only through a rename.
    const skip = new Set([parseDn(c.dn)[0]!.attribute.toLowerCase()]);
    let newDn: string | null = null;
    if (c.owned && rules.provision) {
      const built = buildDn(rules.provision.dn, mv.attributes);
      if ('problem' in built) return this.report(mv, built.problem);
      if (normalizeDn(built.dn) !== normalizeDn(c.dn)) {
        const taken = this.dnHolder(c.agent, normalizeDn(built.dn), c.id);
        if (taken) return this.report(mv, { code: 'dn-collision', message: `cannot rename ${c.dn} to ${built.dn}: the DN is already used in ${c.agent}` });
        newDn = built.dn;
      }
    }
    const changes = exportChanges(c.attributes, desired, skip);
    if (this.ctx.tracer) {
      for (const attr of Object.keys(desired)) {
        if (skip.has(attr)) continue;
        this.ctx.explain(c.dn, c.agent, 'export-flow', () => (attr in changes ? `${attr}: ${shown(c.attributes[attr])} -> ${shown(changes[attr])}` : `${attr}: unchanged (${shown(desired[attr])})`));
      }
      if (newDn) this.ctx.explain(c.dn, c.agent, 'export-flow', () => `renamed to ${newDn} (rules.${c.agent}.provision.dn)`);
    }
    if (!Object.keys(changes).length && !newDn) {
      if (pending) this.store.removePendingExport(c.id);
      return;
    }
    const detailed = Object.fromEntries(Object.entries(changes).map(([k, after]) => [k, { before: c.attributes[k] ?? [], after }]));
    this.store.putPendingExport(this.ref, { csId: c.id, agent: c.agent, operation: 'update', dn: c.dn, newDn, changes: detailed, attempts: 0, lastError: null });
    this.ctx.stats.exportsStaged++;
  }
}
