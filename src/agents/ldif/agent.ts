/**
 * LDIF files as a directory, for administrators who stage through files (ldifde, Domino LDIF
 * exports) and for the quickstart. Import reads a content file; export appends RFC 2849 change
 * records to `changesFile` and, with `applyChanges`, also applies them to the content file.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { LdifAgentConfig } from './descriptor.js';
import { normalizeDn, parseDn, sameDn } from '../../util/dn.js';
import { guidFromString, guidToString } from '../../util/guid.js';
import { type Agent, DeltaUnavailableError, type ExportOperation, type ExportResult, type ImportPage, IncompleteReadError, ObjectError } from '../types.js';
import { type AttributeMap, type ConnectorObject } from '../../model/objects.js';
import { type LdifRecord, LdifTruncatedError, readLdifRecords } from './parse.js';
import { contentRecord, ldifLine, type LdifValue } from './write.js';
import { DEFAULT_VALUE_BATCH, valueBatches } from '../value-batches.js';
import type { ProblemCode } from '../../model/problems.js';

const PAGE = 500;
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LdifAgent implements Agent {
  /** Present when the config gives the agent somewhere to write (a changes file, or changes applied to the file). */
  readonly exportObject?: (op: ExportOperation) => Promise<ExportResult>;
  /** Present when changes are applied to the file, which then holds what an export wrote. */
  readonly readObject?: (dn: string) => Promise<ConnectorObject | undefined>;
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
    if (changesFile || config.applyChanges) this.exportObject = (op) => this.writeChange(op);
    // What an applied file holds can be read back one object at a time: an export whose outcome a
    // crash left unknown is settled with it, as with a directory.
    if (config.applyChanges) this.readObject = (dn) => this.readFromFile(dn);
    this.journal = `${file}.journal`;
  }

  /**
   * Applied changes not yet in the content file, one JSON line each, flushed to disk before the
   * export is reported done: the content file is rewritten once, at close, and a process killed
   * before that leaves the journal, which the next use of the file replays (replaying is idempotent).
   */
  private readonly journal: string;
  private journalFd: number | undefined;

  async open(): Promise<void> {}

  async close(): Promise<void> {
    if (this.journalFd !== undefined) {
      closeSync(this.journalFd);
      this.journalFd = undefined;
    }
    if (this.dirty && this.content) {
      this.writeContent(this.content);
      this.dirty = false;
    }
    if (existsSync(this.journal) && this.content) rmSync(this.journal); // now in the content file
  }

  private writeContent(content: NonNullable<LdifAgent['content']>): void {
    const text = ['version: 1', ...[...content.values()].map((e) => contentRecord(e.dn, e.attributes))].join('\n\n');
    replaceFile(this.file, text + '\n');
  }

  /** Changes a killed process applied and journaled but never wrote into the content file, written now. */
  private async recover(): Promise<void> {
    if (!this.config.applyChanges || this.content || !existsSync(this.journal)) return;
    const content = await this.readContent();
    const lines = readFileSync(this.journal, 'utf8').split('\n');
    for (const line of lines) {
      let entry: { op: ExportOperation; attributes: AttributeMap } | undefined;
      try {
        entry = JSON.parse(line) as { op: ExportOperation; attributes: AttributeMap };
      } catch {
        continue; // an empty line, or the torn last one of a write that was never reported done
      }
      this.applyTo(content, entry.op, entry.attributes, true);
    }
    this.writeContent(content);
    rmSync(this.journal);
  }

  /**
   * A file has no change log: the watermark is a digest of its content. An unchanged file has no
   * changes; a changed one is compared in full, which is this agent's normal delta (no warning).
   */
  // eslint-disable-next-line require-yield -- a file has no change log: an unchanged file yields nothing, a changed one is read in full
  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    if ((await this.digest()) !== watermark) throw new DeltaUnavailableError(this.name, `${this.file} changed; a file is compared in full`, true);
  }

  private async digest(): Promise<string> {
    await this.recover();
    if (!this.sourceFileReadable()) return 'absent';
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /**
   * The whole file. A file that ends in the middle of a line, or that changes while it is read, is
   * still being written (or was cut): an incomplete read, from which nothing is concluded.
   */
  async *fullImport(): AsyncIterable<ImportPage> {
    await this.recover();
    const before = this.fileState();
    const watermark = await this.digest();
    yield* this.readAll();
    if (this.fileState() !== before) {
      throw new IncompleteReadError(
        this.name,
        `${this.file} changed while it was read: it is still being written; nothing was concluded from this read. Write the file under another name and rename it into place when it is complete`,
      );
    }
    yield { objects: [], errors: [], watermark };
  }

  /** Size, modification time and inode: what changes when a file is written or replaced. */
  private fileState(): string {
    try {
      const s = statSync(this.file);
      return `${s.size} ${s.mtimeMs} ${s.ino}`;
    } catch {
      return 'absent';
    }
  }

  private async *readAll(): AsyncIterable<ImportPage> {
    if (!this.sourceFileReadable()) return;
    let page: ImportPage = { objects: [], errors: [] };
    const unidentified: number[] = [];
    for await (const record of this.records()) {
      if (record.unidentified) unidentified.push(record.line);
      else if (!this.inScope(record)) continue;
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
    if (unidentified.length) {
      throw new IncompleteReadError(
        this.name,
        `${this.file}: ${unidentified.length} record(s) without a readable DN (line ${unidentified.slice(0, 5).join(', ')}${unidentified.length > 5 ? ', ...' : ''}); which objects they are cannot be told, so nobody was taken as deleted in this read. Correct the file`,
      );
    }
  }

  /**
   * Whether there is a file to read. A source file that is not there is an unreadable source, not an
   * empty directory (a writer's content file may not exist yet: it is created by the first export).
   */
  private sourceFileReadable(): boolean {
    let stat;
    try {
      stat = statSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (this.config.applyChanges) return false;
      throw new Error(
        `${this.file} (agents.${this.name}.file) does not exist: nothing was imported and nobody was taken as deleted. Restore the file, or correct the path in the config`,
      );
    }
    if (stat.isDirectory())
      throw new Error(`${this.file} (agents.${this.name}.file) is a folder, not an LDIF file: nothing was imported and nobody was taken as deleted`);
    return true;
  }

  private async *records(): AsyncIterable<LdifRecord> {
    try {
      yield* readLdifRecords(this.file);
    } catch (e) {
      if (!(e instanceof LdifTruncatedError)) throw e;
      throw new IncompleteReadError(
        this.name,
        `${e.message}; nothing was concluded from this read and its last record was not taken. Write the file under another name and rename it into place when it is complete`,
      );
    }
  }

  private inScope(record: LdifRecord): boolean {
    if (this.config.baseDn) {
      const base = normalizeDn(this.config.baseDn);
      let dn: string;
      try {
        dn = normalizeDn(record.dn);
      } catch {
        return true; // a DN that does not parse is reported by toObject, with the record's anchor
      }
      if (dn !== base && !dn.endsWith(',' + base)) return false;
    }
    if (this.config.objectClasses.length) {
      const classes = [...record.attributes.entries()].find(([k]) => k.toLowerCase() === 'objectclass')?.[1] ?? [];
      const have = new Set(classes.map((c) => c.toString('utf8').toLowerCase()));
      if (!this.config.objectClasses.some((c) => have.has(c.toLowerCase()))) return false;
    }
    return true;
  }

  /**
   * A record as a connector object. A record that cannot be taken (bytes that are not UTF-8, control
   * characters, a DN that does not parse) is rejected whole, with its anchor when it has one, so the
   * import keeps the object's last good image instead of taking it as gone.
   */
  private toObject(record: LdifRecord): ConnectorObject {
    const attributes: AttributeMap = {};
    let objectClasses: string[] = [];
    let problem: { attribute: string | undefined; message: string; code: ProblemCode } | undefined;
    if (record.syntaxProblem) problem = { attribute: record.syntaxProblem.attribute, message: record.syntaxProblem.message, code: 'invalid-ldif' };
    else if (record.dnProblem) problem = { attribute: 'dn', message: record.dnProblem, code: 'invalid-utf8' };
    else if (!record.dn.trim()) problem = { attribute: 'dn', message: `the DN is empty (line ${record.line})`, code: 'invalid-dn' };
    for (const [name, raw] of record.attributes) {
      const key = name.toLowerCase();
      const values: string[] = [];
      for (const b of raw) {
        if (this.config.anchorIsGuid && key === this.anchorAttribute) {
          if (b.length === 16) values.push(guidToString(b));
          else problem ??= { attribute: name, message: `holds a GUID of ${b.length} bytes, a GUID has 16 (line ${record.line})`, code: 'invalid-guid' };
          continue;
        }
        if (this.binary.has(key)) {
          values.push(b.toString('base64'));
          continue;
        }
        let s: string;
        try {
          s = utf8.decode(b);
        } catch {
          problem ??= { attribute: name, message: `holds a value that is not valid UTF-8 (line ${record.line})`, code: 'invalid-utf8' };
          continue;
        }
        if (CONTROL_CHARS.test(s)) problem ??= { attribute: name, message: `holds control characters (line ${record.line})`, code: 'control-characters' };
        else values.push(s);
      }
      if (key === 'objectclass') objectClasses = values;
      else attributes[key] = values;
    }
    const anchors = attributes[this.anchorAttribute] ?? [];
    const anchor = anchors[0];
    if (anchors.length > 1)
      problem ??= {
        attribute: this.config.anchor,
        message: `holds ${anchors.length} values; an anchor has exactly one (line ${record.line})`,
        code: 'multiple-anchors',
      };
    if (!problem) {
      try {
        parseDn(record.dn);
      } catch (e) {
        problem = { attribute: 'dn', message: `${(e as Error).message} (line ${record.line})`, code: 'invalid-dn' };
      }
    }
    if (problem) throw new ObjectError(record.dn || `${this.file} line ${record.line}`, problem.attribute, problem.message, problem.code, anchor);
    if (!anchor) throw new ObjectError(record.dn, this.config.anchor, `has no anchor value (line ${record.line})`, 'missing-anchor');
    return { anchor, dn: record.dn, objectClasses, attributes };
  }

  private async writeChange(op: ExportOperation): Promise<ExportResult> {
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
    // Applied first: a change the file refuses (an entry already at that DN) is not recorded as made.
    if (this.config.applyChanges) {
      await this.apply(op, attributes);
      this.journalWrite(op, attributes);
    }
    if (this.changesFile) appendFileSync(this.changesFile, this.changeRecord(op, attributes) + '\n', { mode: 0o600 });
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
      if (Object.keys(op.changes).length || op.valueChanges) {
        lines.push('changetype: modify');
        for (const [k, v] of Object.entries(op.changes)) {
          lines.push(`replace: ${k}`);
          for (const x of this.encode(k, v)) lines.push(ldifLine(k, x));
          lines.push('-');
        }
        for (const [k, v] of Object.entries(op.valueChanges ?? {})) {
          for (const b of valueBatches(v, DEFAULT_VALUE_BATCH)) {
            lines.push(`${b.operation}: ${k}`);
            for (const x of this.encode(k, b.values)) lines.push(ldifLine(k, x));
            lines.push('-');
          }
        }
      }
    }
    return lines.join('\n') + '\n';
  }

  private journalWrite(op: ExportOperation, attributes: AttributeMap): void {
    this.journalFd ??= openSync(this.journal, 'a', 0o600);
    writeSync(this.journalFd, JSON.stringify({ op, attributes }) + '\n');
    fsyncSync(this.journalFd);
  }

  private async readFromFile(dn: string): Promise<ConnectorObject | undefined> {
    let key: string;
    try {
      key = normalizeDn(dn);
    } catch {
      return undefined;
    }
    const entry = (await this.load()).get(key);
    if (!entry) return undefined;
    const attributes = new Map<string, Buffer[]>(
      Object.entries(entry.attributes).map(([k, v]) => [k, v.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x))]),
    );
    const record: LdifRecord = { dn: entry.dn, attributes, line: 0 };
    return this.inScope(record) ? this.toObject(record) : undefined;
  }

  private async load(): Promise<NonNullable<LdifAgent['content']>> {
    if (this.content) return this.content;
    await this.recover();
    this.content = await this.readContent();
    return this.content;
  }

  private async readContent(): Promise<NonNullable<LdifAgent['content']>> {
    const content: NonNullable<LdifAgent['content']> = new Map();
    if (existsSync(this.file)) {
      for await (const r of readLdifRecords(this.file)) {
        const attrs: Record<string, LdifValue[]> = {};
        for (const [k, v] of r.attributes) attrs[k] = v.map((b) => (this.binary.has(k.toLowerCase()) ? b : b.toString('utf8')));
        content.set(normalizeDn(r.dn), { dn: r.dn, attributes: attrs });
      }
    }
    return content;
  }

  private async apply(op: ExportOperation, attributes: AttributeMap): Promise<void> {
    this.applyTo(await this.load(), op, attributes, false);
    this.dirty = true;
  }

  /** One change on the file's entries; `replay`: from the journal, where a change already made is skipped. */
  private applyTo(content: NonNullable<LdifAgent['content']>, op: ExportOperation, attributes: AttributeMap, replay: boolean): void {
    const key = normalizeDn(op.dn);
    if (op.kind === 'add') {
      if (content.has(key)) {
        if (replay) return;
        throw new ObjectError(op.dn, 'dn', 'an entry with this DN already exists in the file', 'already-exists');
      }
      const attrs: Record<string, LdifValue[]> = { objectClass: op.objectClasses };
      for (const [k, v] of Object.entries(attributes)) attrs[k] = this.encode(k, v);
      content.set(key, { dn: op.dn, attributes: attrs });
    } else if (op.kind === 'delete') {
      content.delete(key);
    } else {
      const entry = content.get(key) ?? (replay && op.newDn ? content.get(normalizeDn(op.newDn)) : undefined);
      if (!entry) {
        if (replay) return;
        throw new ObjectError(op.dn, 'dn', 'no such entry in the file', 'no-such-object');
      }
      for (const [k, v] of Object.entries(op.changes)) {
        const existing = Object.keys(entry.attributes).find((a) => a.toLowerCase() === k) ?? k;
        if (v.length) entry.attributes[existing] = this.encode(k, v);
        else delete entry.attributes[existing];
      }
      for (const [k, v] of Object.entries(op.valueChanges ?? {})) {
        const existing = Object.keys(entry.attributes).find((a) => a.toLowerCase() === k) ?? k;
        const gone = new Set(v.remove.map((x) => x.toLowerCase()));
        const held = (entry.attributes[existing] ?? []).filter((h) => !gone.has(String(h).toLowerCase()));
        const fresh = this.encode(k, v.add).filter((x) => !held.some((h) => String(h).toLowerCase() === String(x).toLowerCase()));
        if (held.length + fresh.length) entry.attributes[existing] = [...held, ...fresh];
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
  }
}

/**
 * Writes a file whole, crash-safely: a temporary file beside it with the old file's mode (0600 when
 * there was none), flushed to disk, then renamed over it. A crash leaves the old file or the new
 * one, never half of one.
 */
function replaceFile(file: string, text: string): void {
  let mode = 0o600;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    // a new file
  }
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode); // the umask may have narrowed or widened what openSync set
  renameSync(tmp, file);
}

/** Splits "cn=a\,b,ou=x" at the first unescaped comma. */
function splitTopRdn(dn: string): string[] {
  for (let i = 0; i < dn.length; i++) {
    if (dn[i] === '\\') i++;
    else if (dn[i] === ',') return [dn.slice(0, i), dn.slice(i + 1)];
  }
  return [dn];
}
