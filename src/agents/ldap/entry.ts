/** Turns an ldapts search entry into a neutral connector object. */
import type { Entry } from 'ldapts';
import { guidToString } from '../../util/guid.js';
import { controlCharacterProblem } from '../../util/text.js';
import { type AttributeMap, type ConnectorObject } from '../../model/objects.js';
import { ObjectError } from '../types.js';
import type { ProblemCode } from '../../model/problems.js';

export interface EntryMapping {
  anchor: string;
  /** Lower-case names of attributes read as bytes. */
  binary: ReadonlySet<string>;
  /** Lower-case names of binary attributes that are GUIDs (shown in Windows text form). */
  guids: ReadonlySet<string>;
}

/** An attribute as ldapts returns it (one value, a list, or an empty list when requested but absent), as a list. */
export function valuesOf(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** The first value as text, or undefined when the entry has none. */
export function firstText(raw: unknown): string | undefined {
  const v = valuesOf(raw)[0];
  return v === undefined || v === '' ? undefined : String(v);
}

/**
 * A value that is not valid UTF-8, or that holds control characters, rejects the whole entry: taking
 * the rest would flow a removal of that attribute to every contact. The error carries the anchor when
 * it could be read, so an import keeps the object's last good image instead of taking it as gone.
 */
export function entryToObject(entry: Entry, m: EntryMapping): ConnectorObject {
  const attributes: AttributeMap = {};
  let objectClasses: string[] = [];
  let problem: { attribute: string; message: string; code: ProblemCode } | undefined;
  for (const [name, raw] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const key = name.toLowerCase();
    const values: string[] = [];
    for (const v of valuesOf(raw)) {
      const text = valueText(key, v, m);
      if (typeof text === 'string') values.push(text);
      else problem ??= { attribute: name, ...text };
    }
    if (key === 'objectclass') objectClasses = values;
    else attributes[key] = values;
  }
  const anchor = attributes[m.anchor.toLowerCase()]?.[0];
  if (problem) throw new ObjectError(entry.dn, problem.attribute, problem.message, problem.code, anchor);
  if (!anchor) throw new ObjectError(entry.dn, m.anchor, 'has no anchor value (is the attribute readable by the bind account?)', 'missing-anchor');
  return { anchor, dn: entry.dn, objectClasses, attributes };
}

/**
 * The anchor of an entry read with the anchor alone (a deletion check), converted as entryToObject
 * converts it; undefined when it is missing or unreadable (the full read reports why).
 */
export function anchorOf(entry: Entry, m: EntryMapping): string | undefined {
  const key = m.anchor.toLowerCase();
  for (const name of Object.keys(entry)) {
    if (name.toLowerCase() !== key) continue;
    const v = valuesOf(entry[name])[0];
    const text = v === undefined ? undefined : valueText(key, v, m);
    return typeof text === 'string' && text !== '' ? text : undefined;
  }
  return undefined;
}

/** One value as text (GUIDs in Windows form, other binary values as base64), or why it cannot be taken. */
function valueText(key: string, v: unknown, m: EntryMapping): string | { message: string; code: ProblemCode } {
  if (Buffer.isBuffer(v)) {
    if (m.guids.has(key)) {
      // A GUID is 16 bytes; taken as another length it would be another anchor, and the object would look new.
      return v.length === 16 ? guidToString(v) : { message: `holds a GUID of ${v.length} bytes (a GUID has 16)`, code: 'invalid-guid' };
    }
    if (m.binary.has(key)) return v.toString('base64');
    return { message: `holds a value that is not valid UTF-8 (bytes ${v.subarray(0, 16).toString('hex')}${v.length > 16 ? '...' : ''})`, code: 'invalid-utf8' };
  }
  const s = String(v);
  const control = controlCharacterProblem(s);
  return control ? { message: control, code: 'control-characters' } : s;
}
