/**
 * What every management agent offers the engine. An agent speaks one directory's protocol and turns
 * its entries into neutral connector objects and back; it holds no sync rules. The engine asks for a
 * capability, never for an agent type.
 */

/** Attribute names are lower-case (LDAP names are case-insensitive); values are text. */
export type AttributeMap = Record<string, string[]>;

export interface ConnectorObject {
  anchor: string;
  dn: string;
  objectClasses: string[];
  attributes: AttributeMap;
}

export type Capability = 'full-import' | 'export-add' | 'export-modify' | 'export-delete' | 'export-rename';

/** An attribute change: the full new value set (an empty list removes the attribute). */
export type AttributeChanges = Record<string, string[]>;

export type ExportOperation =
  | { kind: 'add'; dn: string; objectClasses: string[]; attributes: AttributeMap }
  | { kind: 'update'; dn: string; newDn?: string; changes: AttributeChanges }
  | { kind: 'delete'; dn: string };

export interface ExportResult {
  /** The anchor the directory gave a new object, when it can be read back. */
  anchor?: string;
  /** The DN the object now has. */
  dn: string;
}

/** A failure tied to one object; the step goes on with the others. */
export class ObjectError extends Error {
  constructor(
    readonly object: string,
    readonly attribute: string | undefined,
    readonly problem: string,
    readonly code = 'object-error',
  ) {
    super(`${object}${attribute ? ` [${attribute}]` : ''}: ${problem}`);
    this.name = 'ObjectError';
  }
}

/** The directory cannot be reached or went away; the step stops and nothing is committed as done. */
export class ServerDownError extends Error {
  constructor(agent: string, detail: string) {
    super(`agent "${agent}": directory unavailable: ${detail}`);
    this.name = 'ServerDownError';
  }
}

/** Receives one page of imported objects and per-entry problems found while reading them. */
export interface ImportPage {
  objects: ConnectorObject[];
  errors: ObjectError[];
}

export interface Agent {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** The lower-case attribute that holds the anchor, as the agent reports it. */
  readonly anchorAttribute: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Every object in scope, page by page; the engine never holds a whole directory. */
  fullImport(): AsyncIterable<ImportPage>;
  exportObject(op: ExportOperation): Promise<ExportResult>;
}
