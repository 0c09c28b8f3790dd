/**
 * Synchronization: connector-space objects through the rules into the metaverse (scope, join or
 * projection, import flows, deletion rules) and back out as pending exports (provisioning, export
 * flows, deprovisioning). The rules decide (`inbound.ts`, `outbound.ts`, from each object's
 * `situation.ts`); the decisions are plain data (`effects.ts`) that one applier writes (`apply.ts`).
 * This module runs a step: batches, their transactions, and a failure that costs one object only.
 */
import type { StepContext } from '../context.js';
import { StoreApplier } from './apply.js';
import { Deciding } from './deciding.js';
import type { DecisionSink } from './effects.js';
import { Inbound } from './inbound.js';
import { Moves } from './migration.js';
import { Outbound } from './outbound.js';
import type { SyncView } from './view.js';

const BATCH = 500;

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
  const sync = Synchronizer.forStep(ctx);
  const todo = ids.slice(0, ctx.objectLimit ?? ids.length);
  for (let i = 0; i < todo.length; i += BATCH) {
    sync.syncBatch(todo.slice(i, i + BATCH));
    ctx.progress(Math.min(i + BATCH, todo.length), todo.length);
    ctx.checkErrorLimit();
  }
  ctx.store.transaction(() => sync.endStep());
  ctx.checkObjectLimit(todo.length, 'objects synchronized', ids.length);
}

/** The decisions of one step over a view, sent to a sink: the store in a run, an overlay in a preview. */
export class Decisions {
  readonly deciding: Deciding;
  readonly outbound: Outbound;
  readonly inbound: Inbound;

  constructor(input: ConstructorParameters<typeof Deciding>[0]) {
    this.deciding = new Deciding(input);
    const moves = new Moves(this.deciding);
    this.outbound = new Outbound(this.deciding, moves);
    this.inbound = new Inbound(this.deciding, this.outbound, moves);
    moves.removePerson = (mv, reason) => this.inbound.deleteMvObject(mv, reason);
  }

  /** One connector-space object, by id. */
  syncObject(id: number): void {
    const cs = this.deciding.view.getCs(id);
    if (cs) this.inbound.sync(cs);
  }

  /**
   * What a sync step does at its end: the groups whose members changed after them, the objects whose
   * DN was held, then those with an address conflict.
   */
  endStep(): void {
    this.deciding.refs.endStep(
      (cs) => this.inbound.sync(cs),
      (mv) => this.outbound.sync(mv),
    );
    this.recheckBlockedByDn();
    this.recheckAddressConflicts();
  }

  /**
   * Objects whose contact's DN was held by another object when they were provisioned: a Domino
   * document recreated with a new UNID (same name, same address) is a new person beside an old one
   * that is gone, and whichever of the two is synced first, the old contact's deletion is staged in
   * the same step, so the new person is looked at again here. The export sends deletions before adds
   * and renames, so the DN is free when the add goes out: one cycle, no dn-collision.
   */
  recheckBlockedByDn(): void {
    const { deciding: d } = this;
    const blocked = [...d.blockedByDn];
    d.blockedByDn.clear();
    for (const [mvId, { agent, dn }] of blocked) {
      const mv = d.view.getMv(mvId);
      if (!mv) continue;
      if (!d.dnHolder(agent, dn)) this.outbound.sync(mv);
      else d.report(mv, { code: 'dn-collision', message: `the contact's DN ${dn} is already used in ${agent} by another object; not provisioned` });
    }
  }

  /**
   * An address conflict ends when one side goes, wherever that is synchronized: every object still
   * waiting on one is looked at again, and gets its contact if it can.
   */
  recheckAddressConflicts(): void {
    for (const mvId of new Set(this.deciding.view.addressConflicts().map((c) => c.mvId))) this.outbound.sync(mvId);
  }
}

/** A sync step's decisions applied to the store, batch by batch. */
export class Synchronizer {
  private constructor(
    private readonly ctx: StepContext,
    private readonly decisions: Decisions,
  ) {}

  static forStep(ctx: StepContext): Synchronizer {
    const view: SyncView = ctx.store;
    const sink: DecisionSink = new StoreApplier(ctx);
    return new Synchronizer(ctx, new Decisions({ config: ctx.config, view, sink, stats: ctx.stats, tracing: ctx.tracer !== undefined }));
  }

  /**
   * Syncs a batch in one transaction. A savepoint per object cost more than most objects' own work,
   * so the batch first runs without them; only when an object fails is the batch rolled back (with
   * the step's counters and reports) and run again object by object, so that the failure costs that
   * object alone, as before.
   */
  syncBatch(ids: readonly number[]): void {
    const { store } = this.ctx;
    try {
      this.ctx.allOrNothing(() =>
        store.transaction(() => {
          for (const id of ids) this.decisions.syncObject(id);
        }),
      );
    } catch {
      this.decisions.deciding.forgetStep(); // the rollback undid what the batch recorded
      store.transaction(() => {
        for (const id of ids) this.syncOne(id);
      });
    }
  }

  /** Syncs one connector-space object; a failure rolls back that object only. */
  private syncOne(id: number): void {
    const cs = this.ctx.store.getCs(id);
    if (!cs) return;
    try {
      this.ctx.store.transaction(() => this.decisions.inbound.sync(cs));
    } catch (e) {
      this.decisions.deciding.forgetStep(); // its rollback undid what it recorded (a conflict it opened)
      this.ctx.error(cs.dn, undefined, 'sync-failed', (e as Error).message);
    }
  }

  endStep(): void {
    this.decisions.endStep();
  }
}
