/**
 * The lookup index: the values joins and conflict checks look up, folded one way (model/values.ts),
 * for each agent's and object type's keys. Kept by difference on every write; rebuilt once when the
 * rules ask for other keys.
 */
import type { AttributeMap, CsRow } from '../model/objects.js';
import { lookupValues } from '../model/values.js';
import { type Db, json } from './db.js';
import { type CsDbRow, toCs } from './rows.js';

/** Which attribute values each agent / object type keeps in the lookup index, and how they are folded. */
export interface IndexPlan {
  /** agent -> index keys; a key is "attribute" or "attribute#smtp" */
  cs: Map<string, string[]>;
  /** object type -> MV attributes */
  mv: Map<string, string[]>;
}

/** Which of a key's values went and which are new (each list is small: the values of one attribute). */
function valueChanges(before: string[], after: string[]): { gone: string[]; added: string[] } {
  return { gone: before.filter((v) => !after.includes(v)), added: after.filter((v) => !before.includes(v)) };
}

export function indexValues(key: string, attributes: AttributeMap): string[] {
  const [attr, transform] = key.split('#') as [string, string | undefined];
  return lookupValues(attributes[attr.toLowerCase()] ?? attributes[attr], transform === 'smtp' ? 'smtp' : 'none');
}

export class LookupIndex {
  private plan: IndexPlan = { cs: new Map(), mv: new Map() };

  constructor(private readonly q: Db) {}

  /**
   * The lookup keys the rules need. Writes keep the index by difference (old values out, new ones in),
   * which holds only if the index was built for these keys: when the keys change (a join rule added,
   * say), the index is rebuilt once for every object, here.
   */
  setIndexPlan(plan: IndexPlan): void {
    this.plan = plan;
    const sorted = (m: Map<string, string[]>) => [...m].map(([k, v]) => [k, [...v].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const fingerprint = json({ cs: sorted(plan.cs), mv: sorted(plan.mv) });
    if (this.q.prepare("SELECT value FROM store_setting WHERE key = 'index_plan'").pluck().get() === fingerprint) return;
    this.q.transaction(() => {
      this.q.prepare('DELETE FROM cs_index').run();
      this.q.prepare('DELETE FROM mv_index').run();
      this.eachImage('cs_object', 'agent', (id, agent, attributes) => this.indexCs(id, agent, undefined, attributes));
      this.eachImage('mv_object', 'object_type', (id, type, attributes) => this.indexMv(id, type, undefined, attributes));
      this.q.prepare("INSERT INTO store_setting (key, value) VALUES ('index_plan', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(fingerprint);
    });
  }

  /**
   * Every row's image of a CS or MV table, in id order, read a thousand at a time: better-sqlite3
   * allows no writes while a statement iterates, and the caller writes index rows as it goes.
   */
  private eachImage(table: 'cs_object' | 'mv_object', owner: 'agent' | 'object_type', fn: (id: number, owner: string, attributes: AttributeMap) => void): void {
    const chunk = 1000;
    for (let last = 0; ;) {
      const rows = this.q.prepare(`SELECT id, ${owner} AS owner, attributes FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(last, chunk) as {
        id: number;
        owner: string;
        attributes: string;
      }[];
      for (const r of rows) fn(r.id, r.owner, JSON.parse(r.attributes) as AttributeMap);
      if (rows.length < chunk) return;
      last = rows[rows.length - 1]!.id;
    }
  }

  /** One wrapper for every transaction (nested calls become savepoints): building one per call showed in profiles. */
  private txWrapper: ((fn: () => unknown) => unknown) | undefined;

  /** Brings the lookup index from the old image's values (none for a new object) to the new one's, touching only what changed. */
  indexCs(id: number, agent: string, before: AttributeMap | undefined, after: AttributeMap): void {
    const keys = this.plan.cs.get(agent);
    if (!keys?.length) return;
    for (const key of keys) {
      const { gone, added } = valueChanges(before ? indexValues(key, before) : [], indexValues(key, after));
      for (const v of gone) this.q.prepare('DELETE FROM cs_index WHERE cs_id = ? AND attribute = ? AND value = ?').run(id, key, v);
      for (const v of added) this.q.prepare('INSERT INTO cs_index (cs_id, agent, attribute, value) VALUES (?, ?, ?, ?)').run(id, agent, key, v);
    }
  }

  indexMv(id: number, objectType: string, before: AttributeMap | undefined, after: AttributeMap): void {
    const attrs = this.plan.mv.get(objectType);
    if (!attrs?.length) return;
    const folded = (m: AttributeMap | undefined, a: string): string[] => lookupValues(m?.[a]);
    for (const a of attrs) {
      const { gone, added } = valueChanges(folded(before, a), folded(after, a));
      for (const v of gone) this.q.prepare('DELETE FROM mv_index WHERE mv_id = ? AND attribute = ? AND value = ?').run(id, a, v);
      for (const v of added) this.q.prepare('INSERT INTO mv_index (mv_id, object_type, attribute, value) VALUES (?, ?, ?, ?)').run(id, objectType, a, v);
    }
  }

  /** Objects of an agent, connected or not, whose indexed key has this (folded) value. */
  findCsByIndex(agent: string, key: string, value: string): CsRow[] {
    return (
      this.q
        .prepare('SELECT DISTINCT c.* FROM cs_index i JOIN cs_object c ON c.id = i.cs_id WHERE i.agent = ? AND i.attribute = ? AND i.value = ?')
        .all(agent, key, value.toLowerCase()) as CsDbRow[]
    ).map(toCs);
  }
}
