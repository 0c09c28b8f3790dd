/**
 * Export: pending exports of one agent go out through p-queue at the agent's concurrency. Each is
 * marked as sent (committed) before it goes out, and its success written back to the connector-space
 * image as it arrives; a failure stays pending for the next run with its error recorded; a server
 * that goes away is retried with backoff (after reconnecting), then stops the step. An export marked
 * sent but never recorded is settled with the directory first.
 */
import PQueue from 'p-queue';
import { type Agent, type ExportOperation, type ExportResult, ObjectError, ServerDownError, TransientError } from '../agents/types.js';
import { isValueDelta, type PendingExport } from '../model/objects.js';
import { parseDn } from '../util/dn.js';
import { dnKeyOf } from '../metaverse/keys.js';
import { referenceExportAttributes } from '../config/schema.js';
import { exportWaves, type WaveItem } from './export-waves.js';
import type { RunState, StepContext } from './context.js';
import { settle } from './reconcile.js';
import { withRetries } from './retry.js';
import { StepStoppedError } from './status.js';

/** Deletes first, then updates (renames among them), then adds: free DNs before adds may need them. */
const ORDER = ['delete', 'update', 'add'] as const;

/**
 * Exports are marked sent a chunk at a time, in one transaction, before any of the chunk goes out;
 * outcomes are recorded a few dozen at a time as they arrive. A commit per export cost more than the
 * directory's own write, and stopping the sends for one large commit left the directory idle: the next
 * chunk is marked, and outcomes recorded, while earlier exports are still in flight. A crash leaves
 * the exports marked and not yet recorded "sent, outcome unknown", which the next run settles with the
 * directory object by object. Chunks are read from the store one at a time, so memory does not grow
 * with the backlog.
 */
const CHUNK = 64;
const RECORD_EVERY = 32;

type Outcome =
  | { pe: PendingExport; sent: ExportResult }
  | { pe: PendingExport; adopted: ExportResult }
  | { pe: PendingExport; failed: ObjectError }
  | { pe: PendingExport; inDoubt: true }
  | { pe: PendingExport; unsent: true };

export async function runExport(ctx: StepContext, agent: Agent, concurrency: number): Promise<void> {
  const ids = ctx.store.pendingExportIds(agent.name, ORDER);
  if (inStagingMode(ctx.config, ctx.run, agent.name)) {
    // Staging mode: decisions are made and kept; nothing reaches the directory. A warning, so a
    // forgotten staging switch cannot pass for a healthy schedule.
    if (ids.length)
      ctx.warning(agent.name, undefined, 'staging-mode', `staging mode: ${ids.length} exports kept pending (dirbridge plan shows them); nothing was sent`);
    return;
  }
  // The threshold weighs every pending delete, also those an object limit leaves for a later run.
  const pendingDeletes = ctx.store.countPendingExports(agent.name, 'delete');
  checkDeletionThreshold(ctx, agent.name, pendingDeletes);
  const queue = new PQueue({ concurrency });
  let serverDown: ServerDownError | undefined;
  const todo = ids.slice(0, ctx.objectLimit ?? ids.length);
  let done = 0;
  let arrived: Outcome[] = [];
  const record = (): void => {
    const batch = arrived;
    arrived = [];
    if (batch.length) ctx.store.transaction(() => batch.forEach((o) => recordOutcome(ctx, agent, o)));
  };
  const send = async (pe: PendingExport): Promise<Outcome> => {
    if (serverDown || ctx.errorLimitReached || ctx.interrupted) return { pe, unsent: true };
    try {
      // A retry after a broken connection does not know whether its first attempt arrived: it
      // settles with the directory first, as an export sent by a run that died does.
      const outcome = await withRetries(ctx, agent, pe.dn, `${pe.operation} of ${pe.dn}`, (retry) => sendOnce(ctx, agent, pe, retry || Boolean(pe.sentAt)));
      return { pe, ...outcome };
    } catch (e) {
      if (e instanceof ServerDownError) {
        serverDown ??= e;
        return { pe, inDoubt: true }; // it may have arrived: the next run settles it
      }
      const failed =
        e instanceof ObjectError
          ? e
          : e instanceof TransientError
            ? new ObjectError(
                pe.dn,
                undefined,
                `${e.message}; gave up after ${ctx.config.safety.retry.attempts} retries, the export stays pending`,
                'transient-failure',
              )
            : new ObjectError(pe.dn, undefined, (e as Error).message, 'export-failed');
      return { pe, failed };
    }
  };
  // Deletions go out and are recorded before any rename or add is marked: an add to a DN a deleted
  // contact held (a Domino document recreated with a new UNID) then finds it free, not a dn-collision.
  // The ids come deletions first (ORDER), and the run lock keeps the count true.
  const deletions = Math.min(pendingDeletes, todo.length);
  for (const phase of [todo.slice(0, deletions), ...referenceOrder(ctx, agent.name, todo.slice(deletions))]) {
    for (let i = 0; i < phase.length && !serverDown && !ctx.errorLimitReached && !ctx.interrupted; i += CHUNK) {
      await sendChunk(phase.slice(i, i + CHUNK).flatMap((id) => ctx.store.getPendingExport(id) ?? []));
    }
    await queue.onIdle();
    record();
  }
  async function sendChunk(chunk: PendingExport[]): Promise<void> {
    const sendable = ctx.store.transaction(() =>
      chunk.filter((pe) => {
        if (!agent.exportObject) {
          ctx.error(
            pe.dn,
            undefined,
            'not-supported',
            `agent ${agent.name} imports only and cannot ${pe.operation === 'update' ? 'modify' : pe.operation} objects; the export stays pending`,
          );
          return false;
        }
        if (holdsDnOfAnother(ctx, agent.name, pe)) return false;
        ctx.store.markExportSent(pe.csId); // the intent, committed before anything goes out
        return true;
      }),
    );
    for (const pe of sendable) {
      void queue.add(async () => {
        // Not arrived.push(await ...): that would push onto the array as it was before the await,
        // which record() may have taken away in the meantime.
        const outcome = await send(pe);
        arrived.push(outcome);
        ctx.progress(++done, todo.length);
        if (arrived.length >= RECORD_EVERY) record();
      });
    }
    // Mark the next chunk while this one is still being sent.
    await queue.onSizeLessThan(CHUNK / 2);
  }
  if (serverDown) throw serverDown;
  ctx.checkErrorLimit();
  ctx.checkObjectLimit(todo.length, 'exports', ids.length);
}

/**
 * Adds and updates in waves when the agent's rules write references (a group's members): one that
 * names the DN of another pending add of this agent goes after it (see export-waves.ts). Other agents
 * keep one phase, and are not read ahead.
 */
function referenceOrder(ctx: StepContext, agent: string, ids: number[]): number[][] {
  const attrs = referenceExportAttributes(ctx.config.rules[agent]);
  if (!attrs.length || ids.length < 2) return [ids];
  const items: WaveItem[] = ids.flatMap((id) => {
    const pe = ctx.store.getPendingExport(id);
    if (!pe || pe.operation === 'delete') return pe ? [{ id, names: [] }] : [];
    const named = attrs.flatMap((a) => (pe.operation === 'add' ? (pe.attributes[a] ?? []) : (pe.changes[a]?.added ?? [])));
    const makes = pe.operation === 'add' ? pe.dn : pe.newDn;
    return [{ id, ...(makes ? { adds: dnKeyOf(makes) } : {}), names: named.map(dnKeyOf) }];
  });
  return exportWaves(items);
}

/** Whether staging mode (--staging for the run, or safety.staging) keeps this agent's exports pending. */
export function inStagingMode(config: StepContext['config'], run: RunState, agent: string): boolean {
  const staging = config.safety.staging;
  return run.staging === true || staging === true || (Array.isArray(staging) && staging.includes(agent));
}

/**
 * An add (or a rename) to a DN that another object of the agent already holds (a hand-made contact
 * that appeared after the add was planned, or one whose deletion has not gone out yet): it is not
 * sent, so that nothing is written over an object by its DN, and stays pending with a dn-collision
 * error until the DN is free.
 */
function holdsDnOfAnother(ctx: StepContext, agent: string, pe: PendingExport): boolean {
  const target = pe.operation === 'add' ? pe.dn : pe.operation === 'update' ? pe.newDn : null;
  if (!target) return false;
  const holder = ctx.store.getCsByDn(agent, target).find((c) => c.id !== pe.csId);
  if (!holder) return false;
  const message = `the DN ${target} is already used in ${agent} by another object${holder.anchor ? ` (${holder.anchor})` : ''}; nothing was written, and the ${pe.operation === 'add' ? 'add' : 'rename'} stays pending until the DN is free`;
  ctx.error(target, undefined, 'dn-collision', message);
  ctx.store.recordExportFailure(pe.csId, message);
  return true;
}

function recordOutcome(ctx: StepContext, agent: Agent, o: Outcome): void {
  if ('sent' in o) recordExported(ctx, o.pe, o.sent, agent.anchorAttribute);
  else if ('adopted' in o) adopt(ctx, o.pe, o.adopted, agent.anchorAttribute);
  else if ('failed' in o) {
    ctx.objectError(o.failed);
    ctx.store.recordExportFailure(o.pe.csId, o.failed.message);
  } else if ('unsent' in o && !o.pe.sentAt) ctx.store.clearExportSent(o.pe.csId); // never went out: not in doubt
}

/** One attempt at an export; `inDoubt` when an earlier attempt may have reached the directory. */
async function sendOnce(ctx: StepContext, agent: Agent, pe: PendingExport, inDoubt: boolean): Promise<{ sent: ExportResult } | { adopted: ExportResult }> {
  let op = toOperation(pe);
  if (inDoubt) {
    const settled = await settle(ctx, agent, pe, op);
    if ('done' in settled) return { adopted: settled.done };
    op = settled.send;
  }
  try {
    return { sent: await agent.exportObject!(op) };
  } catch (e) {
    // An add refused because the object exists may be our own add whose result was lost.
    if (!(e instanceof ObjectError && e.code === 'already-exists' && pe.operation === 'add')) throw e;
    const settled = await settle(ctx, agent, pe, op);
    if (!('done' in settled)) throw e;
    return { adopted: settled.done };
  }
}

/**
 * Checked before anything is sent: past the threshold nothing is exported, unless the operator allowed
 * this many deletions for the run (--allow-deletes), which the run history keeps.
 */
function checkDeletionThreshold(ctx: StepContext, agent: string, deletes: number): void {
  if (deletes === 0) return;
  const t = ctx.config.safety.agents[agent]?.deletionThreshold ?? ctx.config.safety.deletionThreshold;
  const held = ctx.store.countCs(agent);
  const overCount = deletes > t.count;
  const overPercent = held >= t.minimumObjects && (deletes * 100) / held > t.percent;
  if (!overCount && !overPercent) return;
  if (deletes <= ctx.run.allowDeletes) {
    ctx.run.allowDeletes -= deletes;
    return;
  }
  const limit = overCount ? `more than ${t.count} (count)` : `more than ${t.percent}% of the ${held} objects of ${agent} (percent)`;
  throw new StepStoppedError(
    'stopped-deletion-threshold-exceeded',
    `${deletes} deletions are pending for ${agent}, ${limit} of safety.deletionThreshold; nothing was exported and nothing deleted. Review them with "dirbridge plan --agent ${agent}", then run again with --allow-deletes ${deletes} to apply exactly these`,
  );
}

/** The directory already holds what the export meant to write: record it as done, and say so. */
function adopt(ctx: StepContext, pe: PendingExport, result: ExportResult, anchorAttribute: string): void {
  recordExported(ctx, pe, result, anchorAttribute);
  ctx.warning(
    result.dn,
    undefined,
    'export-outcome-reconciled',
    `an earlier run sent this ${pe.operation === 'add' ? 'add' : 'rename'} and stopped before recording its result; the directory shows it done, so it was recorded, not repeated`,
  );
}

function toOperation(pe: PendingExport): ExportOperation {
  if (pe.operation === 'add') return { kind: 'add', dn: pe.dn, objectClasses: pe.objectClasses, attributes: pe.attributes };
  if (pe.operation === 'delete') return { kind: 'delete', dn: pe.dn };
  const replaced = Object.entries(pe.changes).filter(([, v]) => !isValueDelta(v));
  const deltas = Object.entries(pe.changes).flatMap(([k, v]) => (isValueDelta(v) ? [[k, { add: v.added ?? [], remove: v.removed ?? [] }] as const] : []));
  return {
    kind: 'update',
    dn: pe.dn,
    ...(pe.newDn ? { newDn: pe.newDn } : {}),
    changes: Object.fromEntries(replaced.map(([k, v]) => [k, v.after])),
    ...(deltas.length ? { valueChanges: Object.fromEntries(deltas) } : {}),
  };
}

/** Writes what the directory accepted into the connector space, so the next sync sees no difference. */
function recordExported(ctx: StepContext, pe: PendingExport, result: ExportResult, anchorAttribute: string): void {
  const { store, stats, ref } = ctx;
  const cs = store.getCs(pe.csId);
  store.removePendingExport(pe.csId);
  if (!cs) return;
  if (pe.operation === 'delete') {
    store.deleteCs(ref, cs, 'export-delete');
    stats.deletes++;
    return;
  }
  if (pe.operation === 'add') {
    // The anchor is an attribute the next import reads too: keep it in the image, or that import sees a change.
    const attributes = result.anchor ? { ...pe.attributes, [anchorAttribute]: [result.anchor] } : pe.attributes;
    store.updateCsImage(ref, cs, { anchor: result.anchor ?? null, dn: result.dn, objectClasses: pe.objectClasses, attributes }, 'export-add');
    store.markExported(cs.id);
    store.expectExported(ref, cs.id, cs.agent, result.dn, pe.attributes);
    stats.adds++;
    return;
  }
  const attributes = { ...cs.attributes };
  for (const [k, v] of Object.entries(pe.changes)) {
    if (v.after.length) attributes[k] = v.after;
    else delete attributes[k];
  }
  if (pe.newDn) {
    const rdn = parseDn(pe.newDn)[0]!;
    attributes[rdn.attribute.toLowerCase()] = [rdn.value];
  }
  store.updateCsImage(ref, cs, { dn: result.dn, objectClasses: cs.objectClasses, attributes }, pe.newDn ? 'export-rename' : 'export-update');
  // Values added to a shared attribute are not an expectation of the whole attribute: others write it too.
  // A mailbox that only got values added expects nothing of its next import (it may even be gone by then).
  const replaced = Object.entries(pe.changes).filter(([, v]) => !isValueDelta(v));
  if (replaced.length || pe.newDn) store.expectExported(ref, cs.id, cs.agent, result.dn, Object.fromEntries(replaced.map(([k, v]) => [k, v.after])));
  if (pe.newDn) stats.renames++;
  if (Object.keys(pe.changes).length) stats.updates++;
  for (const v of Object.values(pe.changes)) {
    stats.valuesAdded += v.added?.length ?? 0;
    stats.valuesRemoved += v.removed?.length ?? 0;
  }
}
