/**
 * Full import (stage only): the directory's objects become the agent's connector-space image, with
 * pending imports (add, update, delete) for the sync to process. Nothing leaves the store.
 */
import type { Agent, ConnectorObject } from '../agents/types.js';
import type { CsRow } from '../metaverse/types.js';
import { sameValues } from '../util/attributes.js';
import { normalizeDn } from '../util/dn.js';
import type { StepContext } from './context.js';

export async function runFullImport(ctx: StepContext, agent: Agent): Promise<void> {
  const { store } = ctx;
  for await (const page of agent.fullImport()) {
    store.transaction(() => {
      for (const e of page.errors) ctx.objectError(e);
      for (const o of page.objects) stageObject(ctx, agent, o);
    });
  }
  // What the directory no longer returned is gone (or out of the agent's scope).
  store.transaction(() => {
    for (const id of store.unseenCsIds(agent.name, ctx.ref.stepId)) {
      const cs = store.getCs(id)!;
      if (cs.pendingImport === 'add' && cs.mvId === null) {
        store.deleteCs(ctx.ref, cs, 'import-delete'); // never synced: nothing else refers to it
      } else {
        store.setPendingImport(id, 'delete');
        store.logChange(ctx.ref, 'cs', agent.name, id, cs.anchor ?? cs.dn, 'import-delete', { dn: cs.dn }, undefined);
      }
      ctx.stats.deletes++;
    }
  });
}

function stageObject(ctx: StepContext, agent: Agent, o: ConnectorObject): void {
  const { store } = ctx;
  const dnKey = normalizeDn(o.dn);
  let existing = store.getCsByAnchor(agent.name, o.anchor);
  if (!existing) {
    // An export add whose anchor could not be read back: recognise it by its DN.
    existing = store.getCsByDnKey(agent.name, dnKey).find((c) => c.anchor === null);
  }
  if (!existing) {
    const id = store.insertCs(ctx.ref, { agent: agent.name, anchor: o.anchor, dn: o.dn, dnKey, objectClasses: o.objectClasses, attributes: o.attributes, pendingImport: 'add', seenStep: ctx.ref.stepId });
    void id;
    ctx.stats.adds++;
    return;
  }
  store.markSeen(existing.id, ctx.ref.stepId);
  if (existing.provisioned) store.markExported(existing.id);
  if (isUnchanged(existing, o)) {
    if (existing.pendingImport === 'delete') store.setPendingImport(existing.id, 'update'); // it came back
    ctx.stats.unchanged++;
    return;
  }
  const renamed = normalizeDn(existing.dn) !== dnKey;
  const pending = existing.pendingImport === 'add' ? 'add' : 'update';
  store.updateCsImage(ctx.ref, existing, { anchor: o.anchor, dn: o.dn, dnKey, objectClasses: o.objectClasses, attributes: o.attributes }, 'import-update', pending);
  if (renamed) ctx.stats.renames++;
  else ctx.stats.updates++;
}

function isUnchanged(cs: CsRow, o: ConnectorObject): boolean {
  if (cs.anchor !== o.anchor || cs.dn !== o.dn) return false;
  const keys = new Set([...Object.keys(cs.attributes), ...Object.keys(o.attributes)]);
  for (const k of keys) if (!sameValues(cs.attributes[k] ?? [], o.attributes[k] ?? [])) return false;
  return sameValues(cs.objectClasses, o.objectClasses);
}
