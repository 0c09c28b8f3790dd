/** How connector-space rows and pending exports are read from their tables. */
import type { AttributeMap, CsRow, LinkKind, PendingExport, PendingImport } from '../model/objects.js';
import { json } from './db.js';

export interface CsDbRow {
  id: number;
  agent: string;
  anchor: string | null;
  dn: string;
  object_classes: string;
  attributes: string;
  pending_import: PendingImport | null;
  provisioned: number;
  owned: number;
  mv_id: number | null;
  link_kind: LinkKind | null;
  linked_run: number | null;
  linked_at: string | null;
}

/**
 * A connector-space row whose image is parsed from JSON only when read: a sync loads every connector
 * of a metaverse object, and most are looked at only for their agent and link.
 */
class LazyCsRow implements CsRow {
  id: number;
  agent: string;
  anchor: string | null;
  dn: string;
  pendingImport: PendingImport | null;
  provisioned: boolean;
  owned: boolean;
  mvId: number | null;
  linkKind: LinkKind | null;
  linkedRun: number | null;
  linkedAt: string | null;
  #classesJson: string | undefined;
  #attributesJson: string | undefined;
  #classes: string[] | undefined;
  #attributes: AttributeMap | undefined;

  constructor(r: CsDbRow) {
    this.id = r.id;
    this.agent = r.agent;
    this.anchor = r.anchor;
    this.dn = r.dn;
    this.pendingImport = r.pending_import;
    this.provisioned = r.provisioned === 1;
    this.owned = r.owned === 1;
    this.mvId = r.mv_id;
    this.linkKind = r.link_kind;
    this.linkedRun = r.linked_run;
    this.linkedAt = r.linked_at;
    this.#classesJson = r.object_classes;
    this.#attributesJson = r.attributes;
  }

  get objectClasses(): string[] {
    this.#classes ??= JSON.parse(this.#classesJson!) as string[];
    return this.#classes;
  }
  set objectClasses(v: string[]) {
    this.#classes = v;
  }
  get attributes(): AttributeMap {
    this.#attributes ??= JSON.parse(this.#attributesJson!) as AttributeMap;
    return this.#attributes;
  }
  set attributes(v: AttributeMap) {
    this.#attributes = v;
  }

  /** Whether this row's stored image is, byte for byte, the JSON of these values (false: cannot tell). */
  storedAs(objectClasses: string[], attributes: AttributeMap): boolean {
    return (
      this.#attributesJson !== undefined &&
      this.#classesJson !== undefined &&
      this.#attributesJson === json(attributes) &&
      this.#classesJson === json(objectClasses)
    );
  }

  /** The fields as a plain object for JSON.stringify, which would miss the image: it sits behind getters, not in own properties (so would a spread). */
  toJSON(): CsRow {
    return {
      id: this.id,
      agent: this.agent,
      anchor: this.anchor,
      dn: this.dn,
      objectClasses: this.objectClasses,
      attributes: this.attributes,
      pendingImport: this.pendingImport,
      provisioned: this.provisioned,
      owned: this.owned,
      mvId: this.mvId,
      linkKind: this.linkKind,
      linkedRun: this.linkedRun,
      linkedAt: this.linkedAt,
    };
  }
}

export const toCs = (r: CsDbRow): CsRow => new LazyCsRow(r);

/** True when the row as stored holds exactly these values in this order; false when they differ or it cannot tell. */
export function sameStoredImage(cs: CsRow, objectClasses: string[], attributes: AttributeMap): boolean {
  return cs instanceof LazyCsRow && cs.storedAs(objectClasses, attributes);
}

/** The metaverse file cannot be used as it is; the message names the file, what is wrong and the fix. */

/** What an add's attributes column holds when they are its object's image (putPendingAdd): not JSON, so never a real value. */
export const ATTRIBUTES_OF_IMAGE = '';
export const SELECT_PENDING_EXPORT = `SELECT p.cs_id, p.agent, p.operation, p.dn, p.new_dn, p.object_classes, p.attempts, p.last_error, p.sent_at,
  CASE WHEN p.attributes = '${ATTRIBUTES_OF_IMAGE}' THEN c.attributes ELSE p.attributes END AS attributes
  FROM pending_export p JOIN cs_object c ON c.id = p.cs_id`;

export interface PeRow {
  cs_id: number;
  agent: string;
  operation: 'add' | 'update' | 'delete';
  dn: string;
  new_dn: string | null;
  object_classes: string | null;
  attributes: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

export function toPe(r: PeRow): PendingExport {
  const base = { csId: r.cs_id, agent: r.agent, dn: r.dn, attempts: r.attempts, lastError: r.last_error, sentAt: r.sent_at };
  if (r.operation === 'add')
    return { ...base, operation: 'add', objectClasses: JSON.parse(r.object_classes ?? '[]') as string[], attributes: JSON.parse(r.attributes) as AttributeMap };
  if (r.operation === 'update')
    return { ...base, operation: 'update', newDn: r.new_dn, changes: JSON.parse(r.attributes) as Record<string, { before: string[]; after: string[] }> };
  return { ...base, operation: 'delete' };
}
