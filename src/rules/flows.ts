/** Attribute flows: import (connector space to metaverse) with precedence, and export (back out). */
import type { AttributeChanges, AttributeMap } from '../model/objects.js';
import { type FlowValue, isReferenceFlow, type ReferenceFlow } from '../config/schema.js';
import { sameValues } from '../model/values.js';
import { fillTemplate } from '../util/template.js';
import { dnKeyOf } from '../util/dn.js';

export type ValueSource = (attribute: string) => string[];

/**
 * Turns the values of a references flow into what they name on the other side (DNs into metaverse
 * ids on import, metaverse ids into DNs on export). The engine gives one: resolving reads the store.
 */
export type ReferenceResolver = (flow: ReferenceFlow, values: string[]) => string[];

/** Values a flow yields from a source: a copy, the first non-empty of several, a template, a constant, resolved references. */
export function evaluateFlow(flow: FlowValue, source: ValueSource, resolve?: ReferenceResolver): string[] {
  if (typeof flow === 'string') return source(flow);
  if (isReferenceFlow(flow)) {
    if (!resolve) throw new Error(`the references flow of ${flow.references} needs a resolver, and none was given`);
    return resolve(flow, source(flow.references));
  }
  if ('first' in flow) {
    for (const a of flow.first) {
      const v = source(a);
      if (v.length) return v;
    }
    return [];
  }
  if ('template' in flow) {
    const filled = fillTemplate(flow.template, (name) => source(name)[0]);
    return filled.missing ? [] : [filled.text];
  }
  return [flow.constant];
}

export const csSource =
  (attributes: AttributeMap): ValueSource =>
  (a) =>
    attributes[a.toLowerCase()] ?? [];
export const mvSource =
  (attributes: AttributeMap): ValueSource =>
  (a) =>
    attributes[a] ?? [];

export interface ImportFlowResult {
  attributes: AttributeMap;
  sources: Record<string, string>;
  changed: string[];
  /** Attributes this agent wanted to set but a higher-precedence agent owns. */
  overridden: string[];
}

/**
 * Applies an agent's import flows to an MV object. An agent may set an attribute that nobody set,
 * that it set itself, or that a lower-precedence agent set; precedence lists agents highest first.
 */
export function applyImportFlows(
  mv: { attributes: AttributeMap; sources: Record<string, string> },
  agent: string,
  csAttributes: AttributeMap,
  flows: Record<string, FlowValue>,
  precedenceOf: (mvAttribute: string) => readonly string[],
  resolve?: ReferenceResolver,
): ImportFlowResult {
  const attributes: AttributeMap = { ...mv.attributes };
  const sources = { ...mv.sources };
  const changed: string[] = [];
  const overridden: string[] = [];
  const src = csSource(csAttributes);
  for (const [mvAttr, flow] of Object.entries(flows)) {
    const current = sources[mvAttr];
    if (current !== undefined && current !== agent) {
      const order = precedenceOf(mvAttr);
      const mine = order.indexOf(agent);
      const theirs = order.indexOf(current);
      if (theirs !== -1 && (mine === -1 || mine > theirs)) {
        overridden.push(mvAttr);
        continue;
      }
    }
    const values = evaluateFlow(flow, src, resolve);
    const before = attributes[mvAttr] ?? [];
    if (values.length === 0) {
      if (current === agent || current === undefined) {
        if (before.length) changed.push(mvAttr);
        delete attributes[mvAttr];
        delete sources[mvAttr];
      }
      continue;
    }
    if (!sameValues(before, values)) changed.push(mvAttr);
    attributes[mvAttr] = values;
    sources[mvAttr] = agent;
  }
  return { attributes, sources, changed, overridden };
}

/** Removes what a disconnected agent contributed. */
export function removeContributions(
  mv: { attributes: AttributeMap; sources: Record<string, string> },
  agent: string,
): { attributes: AttributeMap; sources: Record<string, string> } {
  const attributes: AttributeMap = { ...mv.attributes };
  const sources = { ...mv.sources };
  for (const [attr, a] of Object.entries(mv.sources)) {
    if (a === agent) {
      delete attributes[attr];
      delete sources[attr];
    }
  }
  return { attributes, sources };
}

/** The connector attributes the export flows want, keyed by lower-case connector attribute. */
export function desiredExportAttributes(mvAttributes: AttributeMap, flows: Record<string, FlowValue>, resolve?: ReferenceResolver): AttributeMap {
  const out: AttributeMap = {};
  const src = mvSource(mvAttributes);
  for (const [csAttr, flow] of Object.entries(flows)) out[csAttr.toLowerCase()] = evaluateFlow(flow, src, resolve);
  return out;
}

/**
 * A list written as what changed in it (a group's members): the values to add and to remove so the
 * connector holds `desired`, compared as DNs (however they are spelt). Empty lists when nothing changes.
 */
export function valueDelta(current: readonly string[], desired: readonly string[]): { added: string[]; removed: string[] } {
  const held = new Set(current.map(dnKeyOf));
  const wanted = new Set(desired.map(dnKeyOf));
  const added = new Map<string, string>();
  for (const v of desired) if (!held.has(dnKeyOf(v))) added.set(dnKeyOf(v), v);
  return { added: [...added.values()], removed: current.filter((v) => !wanted.has(dnKeyOf(v))) };
}

/** What must change on the connector so it holds the desired values (attributes in `skip` are left alone). */
export function exportChanges(current: AttributeMap, desired: AttributeMap, skip: ReadonlySet<string> = new Set()): AttributeChanges {
  const changes: AttributeChanges = {};
  for (const [attr, values] of Object.entries(desired)) {
    if (skip.has(attr)) continue;
    if (!sameValues(current[attr] ?? [], values)) changes[attr] = values;
  }
  return changes;
}
