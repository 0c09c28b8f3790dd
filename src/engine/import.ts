/**
 * Import (stage only): what the directory holds becomes the agent's connector-space image, with
 * pending imports (add, update, delete) for a sync to process. Nothing leaves the store. A full
 * import reads everything and treats what it did not see as deleted; a delta import reads what
 * changed since the agent's watermark. Each page is staged in one transaction together with the
 * watermark that covers it, so a crash never leaves a watermark ahead of its data.
 */
import { type Agent, DeltaUnavailableError, type GoneObject, IncompleteReadError, ObjectError } from '../agents/types.js';
import { type ConnectorObject } from '../model/objects.js';
import { sameStoredImage } from '../metaverse/store.js';
import type { CsRow } from '../model/objects.js';
import { sameValues } from '../model/values.js';
import { carriesStamp } from '../rules/scope.js';
import { normalizeDn, sameDn } from '../util/dn.js';
import { confirmExport, reportNotFound } from './confirm.js';
import type { StepContext } from './context.js';
import { withRetries } from './retry.js';
import { runDeletionCheck } from './deletion-check.js';
import { refuseShrunkRead, SeenSet, stageDeletion } from './import-deletions.js';

/**
 * What one import step knows about its connector space before it starts, so that each object costs
 * as few statements as possible: which objects it saw, which carry an export expectation, and
 * whether any object still lacks its anchor.
 */
class ImportSession {
  private readonly seenIds = new SeenSet();
  /** Objects read at the DN the connector space knows them by: the original of any duplicate anchor. */
  readonly atOwnDn = new SeenSet();
  /**
   * Objects that came back under another DN: a rename, or another entry carrying a known anchor (a
   * copied or restored document keeps its UNID). They are staged only once it is known which.
   */
  renames: { csId: number; object: ConnectorObject }[] = [];
  readonly expected: Set<number>;
  private hasAnchorless: boolean | undefined;

  constructor(
    private readonly ctx: StepContext,
    private readonly agent: string,
  ) {
    this.expected = new Set(ctx.store.expectationIds(agent));
  }

  /** Asked only when an anchor is not found (a new object), and once per step. */
  get anchorless(): boolean {
    this.hasAnchorless ??= this.ctx.store.hasAnchorlessCs(this.agent);
    return this.hasAnchorless;
  }

  markSeen(id: number): void {
    this.seenIds.add(id);
  }

  seen(id: number): boolean {
    return this.seenIds.has(id);
  }

  takeRenames(): { csId: number; object: ConnectorObject }[] {
    const r = this.renames;
    this.renames = [];
    return r;
  }
}

export async function runFullImport(ctx: StepContext, agent: Agent): Promise<void> {
  const { store } = ctx;
  const session = new ImportSession(ctx, agent.name);
  let watermark: string | undefined;
  let seen = 0;
  // A broken connection restarts the read from the beginning: what was staged stays staged (and is
  // found unchanged), and only a read that reached the end may decide what is gone.
  try {
    await withRetries(ctx, agent, agent.name, `full import of ${agent.name}`, async () => {
      seen = 0;
      session.takeRenames(); // read again from the start
      for await (const page of readAhead(agent.fullImport())) {
        // Another page after the limit: stopped here, a full import neither deletes nor moves its
        // watermark, since it did not see everything.
        ctx.checkObjectLimit(seen, 'objects imported (the limit is checked between pages)');
        store.transaction(() => {
          for (const e of page.errors) rejectEntry(ctx, agent, e, session, true);
          for (const o of page.objects) stageObject(ctx, agent, o, session, true);
        });
        seen += page.objects.length;
        if (page.watermark !== undefined) watermark = page.watermark;
        ctx.progress(seen);
        ctx.checkErrorLimit();
      }
    });
  } catch (e) {
    if (!(e instanceof IncompleteReadError)) throw e;
    // What was read stays staged: it is what the directory holds. What it did not return is unknown.
    ctx.warning(
      agent.name,
      undefined,
      'incomplete-read',
      `${e.message}. The ${seen} objects read were imported; none was taken as deleted and the watermark was not advanced`,
    );
    return;
  }
  // Every entry has been read: a known anchor under another DN is a rename, unless the object was also
  // read at its own DN (then the other entry carries a copy of its anchor).
  const renames = session.takeRenames();
  const perObject = new Map<number, ConnectorObject[]>();
  for (const r of renames) perObject.set(r.csId, [...(perObject.get(r.csId) ?? []), r.object]);
  for (let i = 0; i < renames.length; i += 500) {
    store.transaction(() => {
      for (const r of renames.slice(i, i + 500)) {
        const cs = store.getCs(r.csId);
        if (!cs) continue;
        const others = perObject.get(r.csId)!;
        if (session.atOwnDn.has(r.csId)) reportDuplicateAnchor(ctx, agent, r.object, [cs.dn], session);
        else if (others.length > 1)
          reportDuplicateAnchor(
            ctx,
            agent,
            r.object,
            others.filter((o) => o !== r.object).map((o) => o.dn),
            session,
          );
        else stageObject(ctx, agent, r.object, session, true, true);
      }
    });
  }
  const unseen = store.importedCsIds(agent.name).filter((id) => !session.seen(id));
  refuseShrunkRead(ctx, agent.name, 'full import', seen, unseen.length);
  // What the directory no longer returned is gone (or out of the agent's scope). The watermark is
  // committed only now: a full import that stops half-way leaves the previous one in place.
  store.transaction(() => {
    for (const id of unseen) {
      const cs = store.getCs(id)!;
      if (store.getExpectation(id)) reportNotFound(ctx, cs);
      stageDeletion(ctx, cs);
    }
    if (watermark !== undefined) store.setWatermark(ctx.ref, agent.name, watermark);
    store.recordFullImport(ctx.ref, agent.name, seen);
  });
}

/**
 * The pages of a full import, with the next one asked for before the caller stages this one: the
 * directory prepares and sends it while SQLite works, instead of the two waiting for each other
 * (staging is synchronous; the next page is read as soon as it returns).
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const pages = source[Symbol.asyncIterator]();
  let next = pages.next();
  try {
    for (;;) {
      // Marked as handled at once: if the caller stops with this read still pending, a failure of
      // it must not become an unhandled rejection. Awaiting it below still throws.
      next.catch(() => undefined);
      const r = await next;
      if (r.done) return;
      next = pages.next();
      yield r.value;
    }
  } finally {
    await pages.return?.().catch(() => undefined);
  }
}

export async function runDeltaImport(ctx: StepContext, agent: Agent): Promise<void> {
  const { store } = ctx;
  const watermark = store.getWatermark(agent.name);
  if (!agent.deltaImport) {
    ctx.warning(agent.name, undefined, 'delta-not-supported', `agent ${agent.name} cannot run a delta import; running a full import instead`);
    return runFullImport(ctx, agent);
  }
  if (watermark === undefined) {
    ctx.warning(agent.name, undefined, 'no-watermark', `no watermark yet for ${agent.name} (no full import has completed); running a full import instead`);
    return runFullImport(ctx, agent);
  }
  try {
    // Deletions first, where the change stream cannot show them. A check the directory cut short
    // keeps the watermark where it is: the changes are read and staged, and read again next time.
    const check = await runDeletionCheck(ctx, agent);
    const moveWatermark = check !== 'incomplete';
    // A retry resumes from the watermark of the last page staged: nothing is read twice or skipped.
    let read = 0;
    const session = new ImportSession(ctx, agent.name);
    await withRetries(ctx, agent, agent.name, `delta import of ${agent.name}`, async () => {
      for await (const page of agent.deltaImport!((moveWatermark ? store.getWatermark(agent.name) : undefined) ?? watermark)) {
        ctx.checkObjectLimit(read, 'changes imported (the limit is checked between pages; the rest follow from the watermark)');
        store.transaction(() => {
          for (const e of page.errors) rejectEntry(ctx, agent, e, session, false);
          for (const o of page.objects) stageObject(ctx, agent, o, session, false);
          for (const g of page.gone ?? []) {
            const cs = findGone(ctx, agent.name, g);
            if (cs) stageDeletion(ctx, cs);
          }
          if (page.watermark !== undefined && moveWatermark) store.setWatermark(ctx.ref, agent.name, page.watermark);
        });
        await settleRenames(ctx, agent, session);
        ctx.checkErrorLimit();
        read += page.objects.length + (page.gone?.length ?? 0);
        ctx.progress(read);
      }
    });
  } catch (e) {
    if (!(e instanceof DeltaUnavailableError)) throw e;
    if (!e.expected) ctx.warning(agent.name, undefined, 'delta-unavailable', `${e.reason}; running a full import instead`);
    return runFullImport(ctx, agent);
  }
  await confirmUnchanged(ctx, agent, new ImportSession(ctx, agent.name));
}

/**
 * Exports the delta did not show (a write the directory took as a no-op, or dropped) are read one by
 * one: the confirming import must compare every export, not only those the change stream mentions.
 */
async function confirmUnchanged(ctx: StepContext, agent: Agent, session: ImportSession): Promise<void> {
  if (!agent.readObject) return; // the next full import confirms them
  for (const expected of ctx.store.expectationsBefore(agent.name, ctx.ref.stepId)) {
    const read = agent.readObject.bind(agent);
    let now: ConnectorObject | undefined;
    try {
      now = await withRetries(ctx, agent, expected.dn, `reading ${expected.dn} back`, () => read(expected.dn));
    } catch (e) {
      if (!(e instanceof ObjectError)) throw e;
      ctx.store.transaction(() => rejectEntry(ctx, agent, e, session, false));
      continue;
    }
    ctx.store.transaction(() => {
      const cs = ctx.store.getCs(expected.csId);
      if (!cs) return;
      if (now && (now.anchor === cs.anchor || cs.anchor === null)) stageObject(ctx, agent, now, session, false);
      else {
        reportNotFound(ctx, cs);
        stageDeletion(ctx, cs);
      }
    });
  }
}

/**
 * An entry the agent could not read (bad bytes, control characters, no anchor) is reported and not
 * staged. An object already known keeps its last good image, and a full import counts it as seen:
 * a bad value must never make a person look deleted.
 */
function rejectEntry(ctx: StepContext, agent: Agent, e: ObjectError, session: ImportSession, full: boolean): void {
  const { store } = ctx;
  const known =
    (e.anchor !== undefined ? store.getCsByAnchor(agent.name, e.anchor) : undefined) ?? store.getCsByDn(agent.name, e.object).find((c) => !c.provisioned);
  if (known && full) session.markSeen(known.id);
  ctx.error(
    e.object,
    e.attribute,
    e.code,
    known
      ? `${e.problem}; the object keeps the values of its last good import until this is fixed`
      : `${e.problem}; the object is not imported until this is fixed`,
  );
}

function findGone(ctx: StepContext, agent: string, g: GoneObject): CsRow | undefined {
  const { store } = ctx;
  if (g.anchor !== undefined) {
    const cs = store.getCsByAnchor(agent, g.anchor);
    if (cs) return cs;
  }
  if (g.dn === undefined) return undefined;
  // A provisioned object waiting for its first export is not in the directory yet: it cannot be gone.
  return store.getCsByDn(agent, g.dn).find((c) => !c.provisioned && (g.anchor === undefined || c.anchor === null));
}

/**
 * A delta import's renames, once their page is staged: an object still standing at the old DN with the
 * same anchor means the new entry is another object carrying a copy of it, which must not take over
 * the known one (its contact would be renamed to a stranger). Without a way to read one object, a
 * rename is taken as it comes (the next full import compares both).
 */
async function settleRenames(ctx: StepContext, agent: Agent, session: ImportSession): Promise<void> {
  for (const r of session.takeRenames()) {
    const cs = ctx.store.getCs(r.csId);
    if (!cs) continue;
    if (agent.readObject) {
      const read = agent.readObject.bind(agent);
      const still = await withRetries(ctx, agent, cs.dn, `reading ${cs.dn} to tell a rename from a copied anchor`, () => read(cs.dn)).catch((e: unknown) => {
        if (e instanceof ObjectError) return undefined;
        throw e;
      });
      if (still && still.anchor === r.object.anchor) {
        ctx.store.transaction(() => reportDuplicateAnchor(ctx, agent, r.object, [cs.dn]));
        continue;
      }
    }
    ctx.store.transaction(() => stageObject(ctx, agent, r.object, session, false, true));
  }
}

/**
 * An entry carrying the anchor of another known object is not imported. When a full import finds it
 * at the DN of a third known object (an existing person whose anchor was overwritten with a copy),
 * that object counts as seen: a bad entry must never make a person look deleted.
 */
function reportDuplicateAnchor(ctx: StepContext, agent: Agent, o: ConnectorObject, holders: string[], session?: ImportSession): void {
  const atItsDn = session ? ctx.store.getCsByDn(agent.name, o.dn).find((c) => !c.provisioned && c.anchor !== o.anchor) : undefined;
  if (atItsDn) session!.markSeen(atItsDn.id);
  const kept = atItsDn ? `; the object known at this DN (${agent.anchorAttribute} ${atItsDn.anchor}) keeps its last good image too` : '';
  ctx.error(
    o.dn,
    agent.anchorAttribute,
    'duplicate-anchor',
    `has the same ${agent.anchorAttribute} (${o.anchor}) as ${holders.join('; ')}; it is not imported, and the object known by that anchor keeps its last good image${kept}, until one of them is given its own (a copied or restored document keeps its UNID)`,
  );
}

/**
 * Whether an object the directory returned at the DN of a connector-space object without an anchor is
 * that object: an add dirbridge sent whose anchor could not be read back, or whose outcome a crash (or
 * a power loss before its intent reached the disk) left unknown. Where the agent stamps what it
 * creates, only an object carrying the stamp is: dirbridge never takes over an object by its DN alone
 * (a hand-made contact that stands where a new contact was planned). Without a stamp, only an add
 * known to have been sent.
 */
function isOurAnchorlessAdd(ctx: StepContext, agent: string, cs: CsRow, o: ConnectorObject): boolean {
  if (cs.anchor !== null) return false;
  const stamp = ctx.config.rules[agent]?.ownership;
  if (stamp) return carriesStamp(o.attributes, stamp);
  return !cs.provisioned || Boolean(ctx.store.getPendingExport(cs.id)?.sentAt);
}

/** `renameSettled`: a rename already judged (not another entry with the same anchor). */
function stageObject(ctx: StepContext, agent: Agent, o: ConnectorObject, session: ImportSession, full: boolean, renameSettled = false): void {
  const { store } = ctx;
  let existing = store.getCsByAnchor(agent.name, o.anchor);
  if (!existing && session.anchorless) {
    // An export add whose anchor could not be read back: recognise it by its DN, and by its stamp.
    existing = store.getCsByDn(agent.name, o.dn).find((c) => isOurAnchorlessAdd(ctx, agent.name, c, o));
  }
  if (!existing) {
    const id = store.insertCs(ctx.ref, {
      agent: agent.name,
      anchor: o.anchor,
      dn: o.dn,
      objectClasses: o.objectClasses,
      attributes: o.attributes,
      pendingImport: 'add',
    });
    session.markSeen(id);
    ctx.stats.adds++;
    return;
  }
  if (full) session.markSeen(existing.id);
  if (!renameSettled && existing.dn !== o.dn && existing.anchor === o.anchor && normalizeDn(existing.dn) !== normalizeDn(o.dn)) {
    session.renames.push({ csId: existing.id, object: o });
    return;
  }
  if (full) session.atOwnDn.add(existing.id);
  if (existing.provisioned) store.markExported(existing.id);
  const expected = session.expected.has(existing.id) ? store.getExpectation(existing.id) : undefined;
  if (expected) confirmExport(ctx, existing, o, expected);
  if (isUnchanged(existing, o)) {
    if (existing.pendingImport === 'delete') store.setPendingImport(existing.id, 'update'); // it came back
    ctx.stats.unchanged++;
    return;
  }
  const renamed = existing.dn !== o.dn && !sameDn(existing.dn, o.dn);
  const pending = existing.pendingImport === 'add' ? 'add' : 'update';
  store.updateCsImage(ctx.ref, existing, { anchor: o.anchor, dn: o.dn, objectClasses: o.objectClasses, attributes: o.attributes }, 'import-update', pending);
  if (renamed) ctx.stats.renames++;
  else ctx.stats.updates++;
}

function isUnchanged(cs: CsRow, o: ConnectorObject): boolean {
  if (cs.anchor !== o.anchor || cs.dn !== o.dn) return false;
  // Most objects a full import reads are as they were, in the same order: their stored JSON says so
  // without parsing it. Otherwise the values are compared as sets.
  if (sameStoredImage(cs, o.objectClasses, o.attributes)) return true;
  const keys = new Set([...Object.keys(cs.attributes), ...Object.keys(o.attributes)]);
  for (const k of keys) if (!sameValues(cs.attributes[k] ?? [], o.attributes[k] ?? [])) return false;
  return sameValues(cs.objectClasses, o.objectClasses);
}
