/**
 * Inbound synchronization of one connector-space object: its situation, then join or projection,
 * import flows, disconnection and the deletion rules, then the outbound flows of the metaverse
 * object it touched. Decides; the sink writes.
 */
import type { AgentRules } from '../../config/schema.js';
import type { CsRow, MvRow } from '../../model/objects.js';
import { deletesMvObject, deprovisionAction } from '../../rules/deletion.js';
import { applyImportFlows, removeContributions } from '../../rules/flows.js';
import { decideJoin, joinValues } from '../../rules/join.js';
import { carriesStamp } from '../../rules/scope.js';
import type { Deciding } from './deciding.js';
import type { Moves } from './migration.js';
import { type Outbound, shown } from './outbound.js';
import { classify } from './situation.js';

export class Inbound {
  constructor(
    private readonly d: Deciding,
    private readonly outbound: Outbound,
    private readonly moves: Moves,
  ) {}

  sync(cs: CsRow): void {
    const { d } = this;
    const { stats } = d;
    const rules = d.config.rules[cs.agent];
    const situation = classify(cs, rules, () => d.view.pendingExportOperation(cs.id), d.stamps);
    if ((situation.kind === 'linked' || situation.kind === 'unlinked' || situation.kind === 'out-of-scope') && this.moves.isSourceOfMoves(cs.agent)) {
      if (this.syncPersonWhoMayMove(cs, rules!, situation.kind === 'out-of-scope')) return;
    }
    switch (situation.kind) {
      case 'gone':
        d.explain(
          cs.dn,
          cs.agent,
          'connector',
          () =>
            `gone from the directory${cs.mvId === null ? '; not linked to a metaverse object, so only the connector-space object is removed' : ': disconnected from its metaverse object'}`,
        );
        if (cs.mvId !== null) this.disconnect(cs, 'deleted from the directory');
        d.decide({ kind: 'remove-cs', cs: d.view.getCs(cs.id)!, operation: 'cs-delete' });
        stats.deletes++;
        return;
      case 'no-rules':
      case 'waiting-export':
      case 'deletion-pending':
        d.explain(cs.dn, cs.agent, 'connector', () =>
          situation.kind === 'no-rules'
            ? `the agent has no rules: nothing to do`
            : situation.kind === 'waiting-export'
              ? 'created by dirbridge and not exported yet: it waits for its export'
              : 'its deletion is pending export: nothing to do',
        );
        this.settle(cs);
        stats.unchanged++;
        return;
      case 'out-of-scope':
        d.explain(
          cs.dn,
          cs.agent,
          'scope',
          () => `out of scope: ${situation.scope.reason}${situation.linked ? '; disconnected from its metaverse object' : ''}`,
        );
        if (situation.linked) this.disconnect(cs, `out of scope (${situation.scope.reason})`);
        else stats.filtered++;
        this.settle(cs);
        return;
      case 'linked': {
        d.explain(cs.dn, cs.agent, 'scope', () => `in scope: ${situation.scope.reason}`);
        const mvId = situation.mvId;
        d.explain(
          cs.dn,
          cs.agent,
          'join',
          () => `already linked to ${d.label(d.view.getMv(mvId)!)} (${cs.linkKind ?? 'link'}${cs.linkedRun ? ` in run ${cs.linkedRun}` : ''})`,
        );
        this.flowIn(cs, rules!, d.view.getMv(mvId)!, false);
        return;
      }
      case 'unlinked': {
        d.explain(cs.dn, cs.agent, 'scope', () => `in scope: ${situation.scope.reason}`);
        return this.syncUnlinked(cs, rules!);
      }
    }
  }

  private syncUnlinked(cs: CsRow, rules: AgentRules): void {
    const { d } = this;
    if (d.view.isExplicitDisconnect(cs.id)) {
      d.explain(cs.dn, cs.agent, 'join', () => 'disconnected by hand (dirbridge cs disconnect): no rule joins it until it is joined by hand');
      return this.settle(cs);
    }
    const joined = this.joinOrProject(cs, rules);
    if (joined === null) return this.settle(cs);
    // A projection is created with its flowed values: nothing is left to update. Its only
    // connector is this one, of an agent that projects, which outbound passes over.
    if (joined.projected) return this.outbound.sync(joined.projected, [cs]);
    this.flowIn(cs, rules, d.view.getMv(joined.mvId)!, true);
  }

  /**
   * A person's document in an agent whose people may move (see migration.ts). True when it was dealt
   * with here: it stands for a mailbox (and still says its person moved, or no longer does), or it
   * says its person moved and their mailbox is known (the move). A document that says its person
   * moved while no mailbox of theirs is known yet stays that person, also where the scope would leave
   * it out (its MailSystem changed with the move): its contact keeps the address reachable until the
   * mailbox is there, and the move then finds the person to move.
   */
  private syncPersonWhoMayMove(cs: CsRow, rules: AgentRules, outOfScope: boolean): boolean {
    const { d, moves } = this;
    const linked = cs.mvId !== null ? d.view.getMv(cs.mvId) : undefined;
    const moved = moves.hasMoved(cs);
    if (linked && linked.objectType !== rules.objectType) {
      if (moved) {
        d.explain(cs.dn, cs.agent, 'migration', () => `stands for ${d.label(linked)}, the mailbox its person moved to (${moves.because()})`);
        this.settle(cs);
        d.stats.unchanged++;
        return true;
      }
      // The move was undone on this side: the document is a person again, and the mailbox needs another entry here.
      d.unlink(cs, 'disconnect', `no longer says its person moved (${moves.because()}): it is a ${rules.objectType} again`);
      d.stats.disconnects++;
      this.outbound.sync(linked.id);
      this.sync(d.view.getCs(cs.id)!);
      return true;
    }
    if (!moved || (!linked && d.view.isExplicitDisconnect(cs.id))) return false;
    const person = linked ?? {
      attributes: applyImportFlows(
        { attributes: {}, sources: {} },
        cs.agent,
        cs.attributes,
        rules.importFlows,
        (a) => d.precedence(a),
        d.refs.importResolver(cs),
      ).attributes,
    };
    const found = moves.mailboxOf(person);
    if (found && 'mailbox' in found) {
      const entry = moves.entryOf(found.mailbox, d.view.connectorsOf(found.mailbox.id));
      if (!entry) {
        moves.move(cs, linked, found.mailbox);
        this.outbound.sync(found.mailbox.id);
        return true;
      }
      d.error(
        cs.dn,
        undefined,
        'ambiguous-move',
        `says its person moved (${moves.because()}), but their mailbox ${d.label(found.mailbox)} already stands here as ${entry.dn}; nothing moved`,
      );
    } else if (found) {
      d.error(
        cs.dn,
        undefined,
        'ambiguous-move',
        `says its person moved (${moves.because()}), and ${found.ambiguous.length} objects could be their mailbox (${found.ambiguous.map((m) => d.label(m)).join('; ')}); nothing moved`,
      );
    } else
      d.explain(
        cs.dn,
        cs.agent,
        'migration',
        () => `says its person moved (${moves.because()}), but no mailbox of theirs is known yet: it stays a ${rules.objectType}`,
      );
    if (!outOfScope) return false;
    if (linked) this.flowIn(cs, rules, linked, false);
    else this.syncUnlinked(cs, rules);
    return true;
  }

  /** Import flows of a linked object into its metaverse object, then that object's outbound flows. */
  private flowIn(cs: CsRow, rules: AgentRules, mv: MvRow, linkedNow: boolean): void {
    const { d } = this;
    const flowed = applyImportFlows(mv, cs.agent, cs.attributes, rules.importFlows, (a) => d.precedence(a), d.refs.importResolver(cs));
    if (d.tracing) this.explainImportFlows(cs, rules, mv, flowed);
    let now = mv;
    if (flowed.changed.length) {
      d.decide({ kind: 'update-mv', before: mv, attributes: flowed.attributes, sources: flowed.sources });
      now = { ...mv, attributes: flowed.attributes, sources: flowed.sources };
      if (!linkedNow) d.stats.updates++;
    } else if (!linkedNow) d.stats.unchanged++;
    // A join settled the imported change with the link.
    if (!linkedNow) this.settle(cs);
    this.outbound.sync(now);
  }

  private explainImportFlows(cs: CsRow, rules: AgentRules, mv: MvRow, flowed: ReturnType<typeof applyImportFlows>): void {
    for (const [attr, flow] of Object.entries(rules.importFlows)) {
      const from =
        typeof flow === 'string'
          ? flow
          : 'first' in flow
            ? `the first of ${flow.first.join(', ')}`
            : 'template' in flow
              ? `template "${flow.template}"`
              : 'references' in flow
                ? `the objects named in ${flow.references}, found in ${flow.resolveIn.join(', ')}`
                : `constant "${flow.constant}"`;
      const before = shown(mv.attributes[attr]);
      const after = shown(flowed.attributes[attr]);
      this.d.explain(cs.dn, cs.agent, 'import-flow', () =>
        flowed.overridden.includes(attr)
          ? `${attr} from ${from}: not applied, ${mv.sources[attr]} has precedence (keeps ${before})`
          : flowed.changed.includes(attr)
            ? `${attr} from ${from}: ${before} -> ${after}`
            : `${attr} from ${from}: unchanged (${after})`,
      );
    }
  }

  private settle(cs: CsRow): void {
    if (cs.pendingImport !== null) this.d.decide({ kind: 'settle-import', cs });
  }

  /** The MV object the CS object joined, or the one it projected (created with its flowed values); null: neither. */
  private joinOrProject(cs: CsRow, rules: AgentRules): { mvId: number; projected?: undefined } | { projected: MvRow } | null {
    const { d } = this;
    const candidates = rules.join.map((rule) =>
      joinValues(cs.attributes, rule)
        .flatMap((v) => d.view.findMv(rule.mv, v, rules.objectType))
        // One connector per agent: an MV object already represented here is not a join target.
        .filter((mvId) => !d.view.connectorsOf(mvId).some((c) => c.agent === cs.agent)),
    );
    const decision = decideJoin(rules.join, candidates);
    d.explain(cs.dn, cs.agent, 'join', () =>
      decision.kind === 'none'
        ? `${decision.reason}${rules.project ? '' : '; the agent does not project, so the object stays a disconnector'}`
        : decision.kind === 'join'
          ? `${decision.reason}: joins ${d.label(d.view.getMv(decision.target)!)}`
          : `${decision.reason}: not joined, reported`,
    );
    if (decision.kind === 'join') {
      const owned = rules.ownership ? carriesStamp(cs.attributes, rules.ownership) : false;
      d.decide({
        kind: 'link',
        cs,
        mvId: decision.target,
        linkKind: 'join',
        owned,
        detail: decision.reason + (owned ? "; carries dirbridge's ownership stamp" : ''),
        settlesImport: true,
      });
      d.stats.joins++;
      return { mvId: decision.target };
    }
    if (decision.kind === 'ambiguous') {
      d.error(
        cs.dn,
        rules.join[decision.rule]?.cs,
        'ambiguous-join',
        `${decision.reason} (${rules.objectType} ${decision.candidates.map((c) => `#${c}`).join(', ')}); not joined`,
      );
      return null;
    }
    if (!rules.project) return null;
    d.explain(cs.dn, cs.agent, 'projection', () => `projected as a new ${rules.objectType}`);
    const empty: MvRow = { id: 0, objectType: rules.objectType, attributes: {}, sources: {} };
    const flowed = applyImportFlows(empty, cs.agent, cs.attributes, rules.importFlows, (a) => d.precedence(a), d.refs.importResolver(cs));
    const id = d.create({ kind: 'create-mv', objectType: rules.objectType, attributes: flowed.attributes, sources: flowed.sources });
    const mv: MvRow = { id, objectType: rules.objectType, attributes: flowed.attributes, sources: flowed.sources };
    d.decide({ kind: 'link', cs, mvId: id, linkKind: 'projection', owned: false, detail: `projected as ${rules.objectType}`, settlesImport: true });
    if (d.tracing) this.explainImportFlows(cs, rules, { ...empty, id }, flowed);
    d.stats.projections++;
    return { projected: mv };
  }

  private disconnect(cs: CsRow, reason: string): void {
    const { d } = this;
    const mvId = cs.mvId!;
    d.unlink(cs, 'disconnect', reason);
    d.stats.disconnects++;
    const mv = d.view.getMv(mvId);
    if (!mv) return;
    const type = d.config.metaverse.objectTypes[mv.objectType];
    const deletes = Boolean(type && deletesMvObject(type.deleteWhenDisconnectedFrom, cs.agent));
    d.explain(
      () => d.label(mv),
      cs.agent,
      'deletion',
      () =>
        deletes
          ? `metaverse.objectTypes.${mv.objectType}.deleteWhenDisconnectedFrom names ${cs.agent}: the ${mv.objectType} is deleted`
          : `${mv.objectType} objects are not deleted when ${cs.agent} disconnects: its contributions are removed`,
    );
    if (deletes) {
      this.deleteMvObject(mv, `its connector in ${cs.agent} was ${reason}`);
      return;
    }
    const left = removeContributions(mv, cs.agent);
    if (Object.keys(left.attributes).length !== Object.keys(mv.attributes).length)
      d.decide({ kind: 'update-mv', before: mv, attributes: left.attributes, sources: left.sources });
    this.outbound.sync(mvId);
  }

  deleteMvObject(mv: MvRow, reason: string): void {
    const { d } = this;
    // The groups that name it lose it at the end of the step.
    d.refs.touched(mv.id);
    const connectors = d.view.connectorsOf(mv.id);
    for (const c of connectors) {
      const rules = d.config.rules[c.agent];
      if (c.provisioned) {
        const add = d.view.getPendingExport(c.id);
        if (add?.sentAt) {
          // Its add was sent and the run died before the result was known: it may exist, so delete it
          // (deleting what is not there counts as done) rather than forget it.
          d.unlink(c, 'deprovision', 'its add was sent with an unknown outcome; a delete is staged in case it exists');
          d.decide({ kind: 'stage-export', export: { csId: c.id, agent: c.agent, operation: 'delete', dn: add.dn, attempts: 0, lastError: null } });
          d.stats.exportsStaged++;
          continue;
        }
        // Never exported: nothing to remove from the directory.
        d.unlink(c, 'deprovision', 'provisioned but never exported; discarded');
        d.decide({ kind: 'remove-cs', cs: d.view.getCs(c.id)!, operation: 'provision-cancel' });
        continue;
      }
      const action = deprovisionAction(c, rules);
      d.explain(
        c.dn,
        c.agent,
        'deprovisioning',
        () => `${action.kind === 'delete' ? 'delete staged' : 'disconnected, left in the directory'}: ${action.reason}`,
      );
      if (action.kind === 'delete') {
        d.unlink(c, 'deprovision', action.reason);
        d.decide({ kind: 'stage-export', export: { csId: c.id, agent: c.agent, operation: 'delete', dn: c.dn, attempts: 0, lastError: null } });
        d.stats.exportsStaged++;
      } else {
        d.unlink(c, 'disconnect', action.reason);
        d.decide({ kind: 'withdraw-export', csId: c.id });
        if (action.warning) d.warning(c.dn, rules?.ownership?.attribute, 'ownership-stamp-missing', action.warning);
      }
    }
    for (const agent of Object.keys(d.config.rules)) d.endAddressConflict(mv, agent, 'the object itself is gone');
    d.decide({ kind: 'delete-mv', mv, reason });
    d.stats.deletes++;
    // A person's own document that stood for this mailbox since they moved (the mailbox is gone: the
    // move undone) is that person again: synchronized now, it gets its contact back in this cycle.
    for (const c of connectors) {
      if (c.mvId === mv.id && this.moves.isSourceOfMoves(c.agent) && d.config.rules[c.agent]?.objectType !== mv.objectType) {
        const now = d.view.getCs(c.id);
        if (now && now.mvId === null) this.sync(now);
      }
    }
  }
}
