/**
 * What the deciding code of one sync step shares: the rules, the view it reads, the sink its
 * decisions go to, the step's counters, and what it has learnt in the step (open address conflicts,
 * objects whose DN was held, which agents may hold disconnectors).
 */
import type { DirbridgeConfig } from '../../config/schema.js';
import type { CsRow, MvRow, StepStats } from '../../model/objects.js';
import type { ProblemCode, RuleProblem } from '../../model/problems.js';
import type { Decision, DecisionSink } from './effects.js';
import type { SyncView } from './view.js';
import { References } from './references.js';

export interface DecidingInput {
  config: DirbridgeConfig;
  view: SyncView;
  sink: DecisionSink;
  stats: StepStats;
  /** Whether `explain` decisions are wanted (preview): their text is built only then. */
  tracing: boolean;
}

export class Deciding {
  readonly config: DirbridgeConfig;
  readonly view: SyncView;
  readonly stats: StepStats;
  readonly tracing: boolean;
  readonly stamps: { attribute: string; value: string }[];
  private readonly sink: DecisionSink;
  private readonly agentOrder: string[];
  /** Open address conflicts ("mvId agent" -> address), so that ending one costs nothing where there is none. */
  private conflicted = new Map<string, string>();
  /**
   * Objects whose contact's DN was held by another object when they were provisioned in this step,
   * looked at again at its end (see Synchronizer.recheckBlockedByDn).
   */
  readonly blockedByDn = new Map<number, { agent: string; dn: string }>();
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
  /** Agents whose directory has been read in full at least once, asked once per agent and step. */
  private readonly importedOnce = new Map<string, boolean>();
  /** Group members: resolved through the metaverse, and looked at again at the end of the step. */
  readonly refs: References;

  constructor(input: DecidingInput) {
    this.config = input.config;
    this.view = input.view;
    this.sink = input.sink;
    this.stats = input.stats;
    this.tracing = input.tracing;
    this.stamps = Object.values(input.config.rules).flatMap((r) => (r.ownership ? [r.ownership] : []));
    this.agentOrder = Object.keys(input.config.agents);
    this.refs = new References(this);
    this.forgetStep();
  }

  /** After a batch was rolled back, what this step had learnt may no longer hold: ask again. */
  forgetStep(): void {
    this.conflicted = new Map(this.view.addressConflicts().map((c) => [`${c.mvId} ${c.agent}`, c.mail]));
    this.disconnectorsIn.clear();
  }

  decide(d: Exclude<Decision, { kind: 'create-mv' | 'provision' }>): void {
    if (d.kind === 'link') this.refs.linked(d.cs.dn);
    this.sink.apply(d);
  }

  create(d: Extract<Decision, { kind: 'create-mv' | 'provision' }>): number {
    return this.sink.apply(d);
  }

  /** Why the rules decided something; the text is built only when someone listens. */
  explain(object: string | (() => string), agent: string, rule: string, decision: () => string): void {
    if (this.tracing) this.sink.apply({ kind: 'explain', line: { object: typeof object === 'string' ? object : object(), agent, rule, decision: decision() } });
  }

  error(object: string, attribute: string | undefined, code: ProblemCode, message: string): void {
    this.sink.apply({ kind: 'report', severity: 'error', object, attribute, code, message });
  }

  warning(object: string, attribute: string | undefined, code: ProblemCode, message: string): void {
    this.sink.apply({ kind: 'report', severity: 'warning', object, attribute, code, message });
  }

  report(mv: MvRow, p: RuleProblem): void {
    this.error(this.label(mv), p.attribute, p.code, p.message);
  }

  label(mv: MvRow): string {
    const source = this.sourceOf(mv);
    return source ? `${mv.objectType} ${source.dn} (${source.agent})` : `${mv.objectType} #${mv.id}`;
  }

  /**
   * The object's own source: the connector of an agent that projects its type (after a move, the
   * Domino document of a mailbox is linked too, but the mailbox is the source), else any projecting one.
   */
  sourceOf(mv: MvRow): CsRow | undefined {
    const connectors = this.view.connectorsOf(mv.id);
    const projects = (c: CsRow): boolean => Boolean(this.config.rules[c.agent]?.project);
    return connectors.find((c) => projects(c) && this.config.rules[c.agent]!.objectType === mv.objectType) ?? connectors.find(projects);
  }

  precedence(mvAttribute: string): readonly string[] {
    return this.config.metaverse.precedence[mvAttribute] ?? this.agentOrder;
  }

  unlink(cs: CsRow, event: 'disconnect' | 'deprovision', detail: string): void {
    this.decide({ kind: 'unlink', cs, event, detail });
    this.disconnectorsIn.set(cs.agent, true);
  }

  mayHoldDisconnectors(agent: string): boolean {
    let may = this.disconnectorsIn.get(agent);
    if (may === undefined) this.disconnectorsIn.set(agent, (may = this.view.hasDisconnectors(agent)));
    return may;
  }

  hasFullImport(agent: string): boolean {
    let imported = this.importedOnce.get(agent);
    if (imported === undefined) this.importedOnce.set(agent, (imported = this.view.hasFullImport(agent)));
    return imported;
  }

  /**
   * The object of `agent` holding a DN, leaving out one whose deletion is staged or that the directory
   * no longer holds (its removal from the connector space follows): that DN is as good as free.
   */
  dnHolder(agent: string, dn: string, except?: number): CsRow | undefined {
    return this.view.getCsByDn(agent, dn).find((o) => o.id !== except && o.pendingImport !== 'delete' && this.view.pendingExportOperation(o.id) !== 'delete');
  }

  /** Records an address conflict; true when it is news (none was open, or one for another address), and only then is it reported. */
  openAddressConflict(mv: MvRow, agent: string, mail: string, others: string[]): boolean {
    const key = `${mv.id} ${agent}`;
    const known = this.conflicted.get(key);
    if (known !== undefined && known.toLowerCase() === mail.toLowerCase()) return false;
    this.decide({ kind: 'open-conflict', mv, agent, mail, others });
    this.conflicted.set(key, mail);
    return true;
  }

  endAddressConflict(mv: MvRow, agent: string, why: string): void {
    if (this.conflicted.delete(`${mv.id} ${agent}`)) this.decide({ kind: 'close-conflict', mv, agent, why });
  }
}
