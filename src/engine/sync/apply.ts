/**
 * The one place a synchronization writes: each decision becomes its store write, inside the
 * transaction of the batch that made it.
 */
import type { StepContext } from '../context.js';
import type { Creation, Decision, DecisionSink } from './effects.js';

export class StoreApplier implements DecisionSink {
  constructor(private readonly ctx: StepContext) {}

  apply(d: Creation): number;
  apply(d: Exclude<Decision, Creation>): void;
  apply(d: Decision): number | void {
    const { store, ref } = this.ctx;
    switch (d.kind) {
      case 'explain':
        return this.ctx.tracer?.(d.line);
      case 'settle-import':
        return store.setPendingImport(d.cs.id, null);
      case 'remove-cs':
        return store.deleteCs(ref, d.cs, d.operation);
      case 'link':
        return store.link(ref, d.cs, d.mvId, d.linkKind, d.owned, d.detail, d.settlesImport, d.event);
      case 'unlink':
        return store.unlink(ref, d.cs, d.event, d.detail);
      case 'create-mv':
        return store.createMv(ref, d.objectType, d.attributes, d.sources);
      case 'update-mv':
        return store.updateMv(ref, d.before, d.attributes, d.sources);
      case 'delete-mv':
        return store.deleteMv(ref, d.mv, d.reason);
      case 'provision':
        return store.insertProvisioned(ref, { agent: d.agent, dn: d.dn, objectClasses: d.objectClasses, attributes: d.attributes }, d.mvId, d.detail);
      case 'replan':
        return store.replanProvisioned(ref, d.cs, { dn: d.dn, objectClasses: d.objectClasses, attributes: d.attributes });
      case 'stage-export':
        return store.putPendingExport(ref, d.export);
      case 'withdraw-export':
        return store.removePendingExport(d.csId);
      case 'open-conflict':
        store.openAddressConflict(ref, d.mv, d.agent, d.mail, d.others);
        return;
      case 'close-conflict':
        return store.closeAddressConflict(ref, d.mv, d.agent, d.why);
      case 'record-move':
        return store.recordMove(ref, d.move);
      case 'set-unresolved':
        return store.unresolved.setUnresolved(ref, d.csId, d.attribute, d.entries);
      case 'report':
        return d.severity === 'error' ? this.ctx.error(d.object, d.attribute, d.code, d.message) : this.ctx.warning(d.object, d.attribute, d.code, d.message);
    }
  }
}
