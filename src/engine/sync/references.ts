/**
 * References between objects (a group's members) through the metaverse. On import, a member DN is
 * resolved to the metaverse object of whatever this directory holds at that DN; on export, a member
 * metaverse object becomes the DN of its object in the target directory. What cannot be resolved is
 * never dropped in silence: it is recorded for the group object, reported once when found, and kept
 * until it resolves.
 *
 * Order within a step does not matter: a group synchronized before one of its members was linked
 * (nested groups, a person projected later in the step) is looked at again at the end of the step,
 * and only then are its unresolved members recorded and reported.
 */
import { isReferenceFlow, type ReferenceFlow, referenceAttributesOf } from '../../config/schema.js';
import type { UnresolvedReference } from '../../metaverse/unresolved-references.js';
import type { CsRow, MvRow } from '../../model/objects.js';
import type { ReferenceResolver } from '../../rules/flows.js';
import { dnKeyOf } from '../../util/dn.js';
import type { Deciding } from './deciding.js';

/** What one group object's resolution left unresolved, by attribute, until the end of the step. */
interface Deferred {
  object: string;
  byAttribute: Map<string, UnresolvedReference[]>;
}

export class References {
  /** Whether any rule has a references flow: without one, nothing here costs anything. */
  readonly active: boolean;
  /** Metaverse attributes that hold references, by object type (the groups that name a member are found through them). */
  private readonly referenceAttributes = new Map<string, string[]>();
  /** When each metaverse object's outbound sync last ran in this step (a counter), or it was deleted. */
  private readonly touchedAt = new Map<number, number>();
  private clock = 0;
  /** DNs of connectors linked in this step: a group holding one unresolved may resolve it now. */
  private readonly linkedDns: string[] = [];
  private readonly deferred = new Map<number, Deferred>();

  constructor(private readonly d: Deciding) {
    for (const type of Object.keys(d.config.metaverse.objectTypes)) {
      const attrs = referenceAttributesOf(d.config.rules, type);
      if (attrs.length) this.referenceAttributes.set(type, attrs);
    }
    this.active = Object.values(d.config.rules).some((r) => [...Object.values(r.importFlows), ...Object.values(r.exportFlows)].some(isReferenceFlow));
  }

  touched(mvId: number): void {
    if (this.active) this.touchedAt.set(mvId, ++this.clock);
  }

  linked(dn: string): void {
    if (this.active) this.linkedDns.push(dn);
  }

  /** Resolves member DNs of a source object to metaverse ids; what does not resolve waits for the end of the step. */
  importResolver(cs: CsRow): ReferenceResolver {
    return (flow, dns) => {
      const ids = new Set<number>();
      const missing: UnresolvedReference[] = [];
      for (const dn of dns) {
        const found = this.objectAt(flow, dn);
        if (typeof found === 'number') ids.add(found);
        else missing.push({ value: dn, label: dn, reason: found });
      }
      this.defer(cs.id, cs.dn, flow.references, missing);
      return [...ids].sort((a, b) => a - b).map(String);
    };
  }

  /** The metaverse object of what `resolveIn` holds at a DN, or why there is none. */
  private objectAt(flow: ReferenceFlow, dn: string): number | string {
    let unlinked: string | undefined;
    for (const agent of flow.resolveIn) {
      for (const c of this.d.view.getCsByDn(agent, dn)) {
        if (c.pendingImport === 'delete') continue;
        if (c.mvId !== null) return c.mvId;
        unlinked ??= agent;
      }
    }
    return unlinked
      ? `${unlinked} holds it, but it is not synchronized (out of scope of rules.${unlinked}, or joined to nothing)`
      : `no object at this DN in ${flow.resolveIn.join(', ')} (a free-text name, an object in a container no agent reads, or of a kind none imports)`;
  }

  /**
   * Turns member metaverse ids into DNs in the target: the DN of each member's object in the first
   * of `resolveIn` that holds one (an object provisioned and not yet added included: the export sends
   * it first). The caller records what did not resolve for the group's object with `deferAll`.
   */
  exportResolver(): { resolve: ReferenceResolver; missing: Map<string, UnresolvedReference[]> } {
    const missing = new Map<string, UnresolvedReference[]>();
    const resolve: ReferenceResolver = (flow, ids) => {
      const dns = new Map<string, string>();
      const lost: UnresolvedReference[] = [];
      for (const id of ids) {
        const member = this.d.view.getMv(Number(id));
        if (!member) continue; // deleted in this step: its groups lose it with it
        const there = this.targetOf(member, flow);
        if (there) dns.set(dnKeyOf(there), there);
        else
          lost.push({
            value: id,
            label: this.d.label(member),
            reason: `has no object in ${flow.resolveIn.join(', ')} (not provisioned there: its own errors and conflicts say why)`,
          });
      }
      missing.set(flow.references, lost);
      return [...dns.values()];
    };
    return { resolve, missing };
  }

  /**
   * The DN a member has in the target once this cycle's exports are sent: a rename staged for it
   * counts (the export sends it before the group that names it, see export-waves.ts), since a
   * directory without referential integrity (Domino, slapd) would not follow it in its groups.
   */
  private targetOf(member: MvRow, flow: ReferenceFlow): string | undefined {
    const connectors = this.d.view.connectorsOf(member.id);
    for (const agent of flow.resolveIn) {
      for (const c of connectors) {
        if (c.agent !== agent || c.pendingImport === 'delete') continue;
        const pending = this.d.view.getPendingExport(c.id);
        if (pending?.operation === 'delete') continue;
        return pending?.operation === 'update' && pending.newDn ? pending.newDn : c.dn;
      }
    }
    return undefined;
  }

  /** Records what a resolution left unresolved for an object, to be reported at the end of the step. */
  defer(csId: number, object: string, attribute: string, entries: UnresolvedReference[]): void {
    if (!this.active) return;
    const known = this.deferred.get(csId) ?? { object, byAttribute: new Map() };
    known.byAttribute.set(attribute, entries);
    this.deferred.set(csId, known);
  }

  deferAll(csId: number, object: string, missing: Map<string, UnresolvedReference[]>): void {
    for (const [attribute, entries] of missing) this.defer(csId, object, attribute, entries);
  }

  /**
   * The end of a step: groups that named a member linked, provisioned or changed after the group was
   * looked at are looked at again (and the groups that name those, for nested groups), then what
   * stays unresolved is recorded, and reported when it is news.
   */
  endStep(syncSource: (cs: CsRow) => void, syncTarget: (mv: MvRow) => void): void {
    if (!this.active) return;
    const { view } = this.d;
    // Import side: a member that was unknown when its group was read, and is linked now.
    const linked = new Set(this.linkedDns.splice(0).map(dnKeyOf));
    if (linked.size) {
      const holders = new Set(view.unresolvedHolders([...linked]));
      for (const [csId, def] of this.deferred) {
        if ([...def.byAttribute.values()].some((entries) => entries.some((e) => linked.has(dnKeyOf(e.value))))) holders.add(csId);
      }
      for (const csId of holders) {
        const cs = view.getCs(csId);
        if (cs) syncSource(cs);
      }
    }
    // Export side: groups whose member was synchronized after them, then the groups that hold those
    // (nested groups), round by round. Each group is looked at again once at most, so a membership
    // loop (A in B, B in A) ends too.
    const again = new Set<number>();
    let from = 0;
    for (;;) {
      const start = this.clock;
      const news = [...this.touchedAt].filter(([, at]) => at > from);
      if (!news.length) break;
      for (const [memberId, at] of news) {
        // A member whose metaverse object went (deleted, or out of scope) is resolved again from the
        // group's own source, so that it is reported by name if its DN still stands in the group.
        const gone = !view.getMv(memberId);
        for (const [type, attrs] of this.referenceAttributes) {
          for (const attr of attrs) {
            for (const groupId of view.findMv(attr, String(memberId), type)) {
              if (again.has(groupId) || (this.touchedAt.get(groupId) ?? 0) > at) continue;
              const group = view.getMv(groupId);
              if (!group) continue;
              again.add(groupId);
              const source = gone ? this.d.sourceOf(group) : undefined;
              if (source) syncSource(source);
              else syncTarget(group);
            }
          }
        }
      }
      from = start;
    }
    this.touchedAt.clear();
    this.flush();
  }

  private flush(): void {
    const { d } = this;
    for (const [csId, def] of this.deferred) {
      if (!d.view.getCs(csId)) continue;
      for (const [attribute, entries] of def.byAttribute) {
        const known = new Set(d.view.unresolvedOf(csId, attribute).map((e) => dnKeyOf(e.value)));
        const now = new Set(entries.map((e) => dnKeyOf(e.value)));
        for (const e of entries) {
          if (known.has(dnKeyOf(e.value))) continue;
          d.warning(
            def.object,
            attribute,
            'unresolved-member',
            `member ${e.label} ${e.reason}; it is not carried to the group's copy. Reported once: "dirbridge unresolved" lists what is still unresolved`,
          );
        }
        if (known.size !== now.size || [...now].some((k) => !known.has(k))) d.decide({ kind: 'set-unresolved', csId, attribute, entries });
      }
    }
    this.deferred.clear();
  }
}
