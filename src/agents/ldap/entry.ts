/** Turns an ldapts search entry into a neutral connector object. */
import type { Entry } from 'ldapts';
import { guidToString } from '../../util/guid.js';
import { type AttributeMap, type ConnectorObject, ObjectError } from '../types.js';

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

const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

export function entryToObject(entry: Entry, m: EntryMapping): ConnectorObject {
  const attributes: AttributeMap = {};
  let objectClasses: string[] = [];
  for (const [name, raw] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const key = name.toLowerCase();
    const list = valuesOf(raw);
    const values: string[] = [];
    for (const v of list) {
      if (Buffer.isBuffer(v)) {
        if (m.guids.has(key) && v.length === 16) values.push(guidToString(v));
        else if (m.binary.has(key)) values.push(v.toString('base64'));
        else throw new ObjectError(entry.dn, name, 'holds a value that is not valid UTF-8', 'invalid-utf8');
      } else {
        const s = String(v);
        if (CONTROL_CHARS.test(s)) throw new ObjectError(entry.dn, name, 'holds control characters', 'control-characters');
        values.push(s);
      }
    }
    if (key === 'objectclass') objectClasses = values;
    else attributes[key] = values;
  }
  const anchorKey = m.anchor.toLowerCase();
  const anchor = attributes[anchorKey]?.[0];
  if (!anchor) throw new ObjectError(entry.dn, m.anchor, 'has no anchor value (is the attribute readable by the bind account?)', 'missing-anchor');
  return { anchor, dn: entry.dn, objectClasses, attributes };
}
