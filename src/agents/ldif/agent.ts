/**
 * LDIF files as a directory, for administrators who stage through files (ldifde, Domino LDIF
 * exports) and for the quickstart. Import reads a content file; export appends RFC 2849 change
 * records to `changesFile` and, with `applyChanges`, also applies them to the content file.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, createReadStream, existsSync, renameSync, writeFileSync } from 'node:fs';
import type { LdifAgentConfig } from '../../config/schema.js';
import { normalizeDn, parseDn, sameDn } from '../../util/dn.js';
import { guidFromString, guidToString } from '../../util/guid.js';
import { type Agent, type AttributeMap, type Capability, type ConnectorObject, DeltaUnavailableError, type ExportOperation, type ExportResult, type ImportPage, ObjectError } from '../types.js';
import { readLdifRecords, type LdifRecord } from './parse.js';
import { contentRecord, ldifLine, type LdifValue } from './write.js';

const PAGE = 500;
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LdifAgent implements Agent {
  readonly capabilities: ReadonlySet<Capability>;
  readonly anchorAttribute: string;
  private readonly binary: Set<string>;
  /** The content file's entries by DN key, loaded on the first applied export. */
  private content: Map<string, { dn: string; attributes: Record<string, LdifValue[]> }> | undefined;
  private dirty = false;

  constructor(
    readonly name: string,
    private readonly config: LdifAgentConfig,
    private readonly file: string,
    private readonly changesFile: string | undefined,
  ) {
    this.anchorAttribute = config.anchor.toLowerCase();
    this.binary = new Set(config.binaryAttributes.map((a) => a.toLowerCase()));
    if (config.anchorIsGuid) this.binary.add(this.anchorAttribute);
    const caps: Capability[] = ['full-import', 'delta-import'];
    if (changesFile || config.applyChanges) caps.push('export-add', 'export-modify', 'export-delete', 'export-rename');
    this.capabilities = new Set(caps);
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {
    if (this.dirty && this.content) {
      const tmp = `${this.file}.tmp-${process.pid}`;
      const text = ['version: 1', ...[...this.content.values()].map((e) => contentRecord(e.dn, e.attributes))].join('\n\n');
      writeFileSync(tmp, text + '\n');
      renameSync(tmp, this.file); // atomic: a crash leaves the old file or the new one, never half
      this.dirty = false;
    }
  }

  /**
   * A file has no change log: the watermark is a digest of its content. An unchanged file has no
   * changes; a changed one is compared in full, which is this agent's normal delta (no warning).
   */
  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    if ((await this.digest()) !== watermark) throw new DeltaUnavailableError(this.name, `${this.file} changed; a file is compared in full`, true);
  }

  private async digest(): Promise<string> {
    if (!existsSync(this.file)) return 'absent';
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  async *fullImport(): AsyncIterable<ImportPage> {
    const watermark = await this.digest();
    yield* this.readAll();
    yield { objects: [], errors: [], watermark };
  }

  private async *readAll(): AsyncIterable<ImportPage> {
    if (!existsSync(this.file)) return;
    let page: ImportPage = { objects: [], errors: [] };
    for await (const record of readLdifRecords(this.file)) {
      if (!this.inScope(record)) continue;
      try {
        page.objects.push(this.toObject(record));
      } catch (e) {
        if (e instanceof ObjectError) page.errors.push(e);
        else throw e;
      }
      if (page.objects.length + page.errors.length >= PAGE) {
        yield page;
        page = { objects: [], errors: [] };
      }
    }
    if (page.objects.length || page.errors.length) yield page;
  }

  private inScope(record: LdifRecord): boolean {
    if (this.config.baseDn) {
      const base = normalizeDn(this.config.baseDn);
      const dn = normalizeDn(record.dn);
      if (dn !== base && !dn.endsWith(',' + base)) return false;
    }
    if (this.config.objectClasses.length) {
      const classes = [...record.attributes.entries()].find(([k]) => k.toLowerCase() === 'objectclass')?.[1] ?? [];
      const have = new Set(classes.map((c) => c.toString('utf8').toLowerCase()));
      if (!this.config.objectClasses.some((c) => have.has(c.toLowerCase()))) return false;
    }
    return true;
  }

  private toObject(record: LdifRecord): ConnectorObject {
    const attributes: AttributeMap = {};
    let objectClasses: string[] = [];
    for (const [name, raw] of record.attributes) {
      const key = name.toLowerCase();
      const values = raw.map((b) => {
        if (this.binary.has(key)) return this.config.anchorIsGuid && key === this.anchorAttribute && b.length === 16 ? guidToString(b) : b.toString('base64');
        let s: string;
        try {
          s = utf8.decode(b);
        } catch {
          throw new ObjectError(record.dn, name, `holds a value that is not valid UTF-8 (line ${record.line})`, 'invalid-utf8');
        }
        if (CONTROL_CHARS.test(s)) throw new ObjectError(record.dn, name, `holds control characters (line ${record.line})`, 'control-characters');
        return s;
      });
      if (key === 'objectclass') objectClasses = values;
      else attributes[key] = values;
    }
    const anchor = attributes[this.anchorAttribute]?.[0];
    if (!anchor) throw new ObjectError(record.dn, this.config.anchor, `has no anchor value (line ${record.line})`, 'missing-anchor');
    try {
      parseDn(record.dn);
    } catch (e) {
      throw new ObjectError(record.dn, 'dn', (e as Error).message, 'invalid-dn');
    }
    return { anchor, dn: record.dn, objectClasses, attributes };
  }

  async exportObject(op: ExportOperation): Promise<ExportResult> {
    try {
      parseDn(op.dn);
      if (op.kind === 'update' && op.newDn) parseDn(op.newDn);
    } catch (e) {
      throw new ObjectError(op.dn, 'dn', (e as Error).message, 'invalid-dn');
    }
    let anchor: string | undefined;
    let attributes: AttributeMap = {};
    if (op.kind === 'add') {
      attributes = { ...op.attributes };
      if (this.config.applyChanges && !attributes[this.anchorAttribute]?.length) {
        // A file has no server to assign identities: mint one as a directory would.
        anchor = this.config.anchorIsGuid ? guidToString(randomBytes(16)) : randomUUID();
        attributes[this.anchorAttribute] = [anchor];
      }
    }
    if (this.changesFile) appendFileSync(this.changesFile, this.changeRecord(op, attributes) + '\n');
    if (this.config.applyChanges) await this.apply(op, attributes);
    const dn = op.kind === 'update' && op.newDn ? op.newDn : op.dn;
    return { dn, ...(anchor ? { anchor } : {}) };
  }

  private encode(key: string, values: string[]): LdifValue[] {
    if (key === this.anchorAttribute && this.config.anchorIsGuid) return values.map((v) => guidFromString(v));
    if (this.binary.has(key)) return values.map((v) => Buffer.from(v, 'base64'));
    return values;
  }

  private changeRecord(op: ExportOperation, attributes: AttributeMap): string {
    const lines = [`# dirbridge agent ${this.name}, ${new Date().toISOString()}`, ldifLine('dn', op.dn)];
    if (op.kind === 'add') {
      lines.push('changetype: add');
      for (const c of op.objectClasses) lines.push(ldifLine('objectClass', c));
      for (const [k, v] of Object.entries(attributes)) for (const x of this.encode(k, v)) lines.push(ldifLine(k, x));
    } else if (op.kind === 'delete') {
      lines.push('changetype: delete');
    } else {
      if (op.newDn && !sameDn(op.newDn, op.dn)) {
        const [rdn, ...parent] = splitTopRdn(op.newDn);
        lines.push('changetype: modrdn', ldifLine('newrdn', rdn!), 'deleteoldrdn: 1', ldifLine('newsuperior', parent.join(',')));
        if (Object.keys(op.changes).length) lines.push('', ldifLine('dn', op.newDn));
      }
      if (Object.keys(op.changes).length) {
        lines.push('changetype: modify');
        for (const [k, v] of Object.entries(op.changes)) {
          lines.push(`replace: ${k}`);
          for (const x of this.encode(k, v)) lines.push(ldifLine(k, x));
          lines.push('-');
        }
      }
    }
    return lines.join('\n') + '\n';
  }

  private async load(): Promise<NonNullable<LdifAgent['content']>> {
    if (this.content) return this.content;
    const content: NonNullable<LdifAgent['content']> = new Map();
    if (existsSync(this.file)) {
      for await (const r of readLdifRecords(this.file)) {
        const attrs: Record<string, LdifValue[]> = {};
        for (const [k, v] of r.attributes) attrs[k] = v.map((b) => (this.binary.has(k.toLowerCase()) ? b : b.toString('utf8')));
        content.set(normalizeDn(r.dn), { dn: r.dn, attributes: attrs });
      }
    }
    this.content = content;
    return content;
  }

  private async apply(op: ExportOperation, attributes: AttributeMap): Promise<void> {
    const content = await this.load();
    const key = normalizeDn(op.dn);
    if (op.kind === 'add') {
      if (content.has(key)) throw new ObjectError(op.dn, 'dn', 'an entry with this DN already exists in the file', 'already-exists');
      const attrs: Record<string, LdifValue[]> = { objectClass: op.objectClasses };
      for (const [k, v] of Object.entries(attributes)) attrs[k] = this.encode(k, v);
      content.set(key, { dn: op.dn, attributes: attrs });
    } else if (op.kind === 'delete') {
      content.delete(key);
    } else {
      const entry = content.get(key);
      if (!entry) throw new ObjectError(op.dn, 'dn', 'no such entry in the file', 'no-such-object');
      for (const [k, v] of Object.entries(op.changes)) {
        const existing = Object.keys(entry.attributes).find((a) => a.toLowerCase() === k) ?? k;
        if (v.length) entry.attributes[existing] = this.encode(k, v);
        else delete entry.attributes[existing];
      }
      if (op.newDn && !sameDn(op.newDn, op.dn)) {
        const rdn = parseDn(op.newDn)[0]!;
        const rdnKey = Object.keys(entry.attributes).find((a) => a.toLowerCase() === rdn.attribute.toLowerCase()) ?? rdn.attribute;
        entry.attributes[rdnKey] = [rdn.value];
        content.delete(key);
        content.set(normalizeDn(op.newDn), { dn: op.newDn, attributes: entry.attributes });
      }
    }
    this.dirty = true;
  }
}

/** Splits "cn=a\,b,ou=x" at the first unescaped comma. */
function splitTopRdn(dn: string): string[] {
  for (let i = 0; i < dn.length; i++) {
    if (dn[i] === '\\') i++;
    else if (dn[i] === ',') return [dn.slice(0, i), dn.slice(i + 1)];
  }
  return [dn];
}
