/**
 * Confirming import: an export is done only when an import shows the directory holding what was
 * written. A value that did not stick (dropped, rewritten, or changed again by someone else) is
 * reported per object and attribute; the import stages the directory's value, so the next sync sees
 * the difference and stages the export again. Nothing is dropped silently.
 */
import type { ConnectorObject } from '../model/objects.js';
import type { CsRow } from '../model/objects.js';
import type { AttributeMap } from '../model/objects.js';
import { sameValues } from '../model/values.js';
import { referenceExportAttributes } from '../config/schema.js';
import { valueDelta } from '../rules/flows.js';
import { normalizeDn } from '../util/dn.js';
import type { StepContext } from './context.js';

const CODE = 'exported-change-not-reimported';

export function confirmExport(ctx: StepContext, cs: CsRow, now: ConnectorObject, expected: { dn: string; attributes: AttributeMap }): void {
  if (normalizeDn(expected.dn) !== normalizeDn(now.dn)) {
    ctx.warning(now.dn, undefined, CODE, `exported the DN ${expected.dn}, the directory holds ${now.dn}; the rename will be staged again`);
  }
  // A list of references (a group's members) holds DNs, which the directory may spell its own way.
  const references = new Set(referenceExportAttributes(ctx.config.rules[cs.agent]));
  for (const [attribute, wrote] of Object.entries(expected.attributes)) {
    const holds = now.attributes[attribute] ?? [];
    const same = references.has(attribute) ? sameReferences(wrote, holds) : sameValues(wrote, holds);
    if (!same) {
      ctx.warning(now.dn, attribute, CODE, `exported ${show(wrote)}, the directory holds ${show(holds)}; the export will be staged again`);
    }
  }
  ctx.store.clearExpectation(cs.id);
}

export function reportNotFound(ctx: StepContext, cs: CsRow): void {
  ctx.warning(cs.dn, undefined, CODE, "exported, but the import no longer finds the object in the directory (or in the agent's view)");
  ctx.store.clearExpectation(cs.id);
}

function sameReferences(wrote: readonly string[], holds: readonly string[]): boolean {
  const delta = valueDelta(holds, wrote);
  return !delta.added.length && !delta.removed.length;
}

function show(values: readonly string[]): string {
  return values.length ? values.map((v) => JSON.stringify(v)).join(', ') : '(no value)';
}
