/**
 * What every management agent offers the engine. An agent speaks one directory's protocol and turns
 * its entries into neutral connector objects and back; it holds no sync rules. As in ConnId, what an
 * agent can do is what it implements: each operation is a method the agent has or has not (set at
 * construction from its config when that decides), and the engine asks for the operation, never
 * for an agent type.
 */

import type { AttributeChanges, AttributeMap, ConnectorObject } from '../model/objects.js';
import type { ProblemCode } from '../model/problems.js';

export type ExportOperation =
  | { kind: 'add'; dn: string; objectClasses: string[]; attributes: AttributeMap }
  /**
   * `changes` replace an attribute's values; `valueChanges` add and remove single values and leave
   * the rest alone: an attribute others write too (a mailbox's proxy addresses), or a list written as
   * what changed in it (a group's members), never as a replace of the whole list.
   */
  | { kind: 'update'; dn: string; newDn?: string; changes: AttributeChanges; valueChanges?: Record<string, ValueDelta> }
  | { kind: 'delete'; dn: string };

/** Values added to and removed from one attribute. */
export interface ValueDelta {
  add: string[];
  remove: string[];
}

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
    readonly code: ProblemCode = 'object-error',
    /** The object's anchor, when it could be read: an import uses it to keep the object's last good image. */
    readonly anchor?: string,
  ) {
    super(`${object}${attribute ? ` [${attribute}]` : ''}: ${problem}`);
    this.name = 'ObjectError';
  }
}

/** The directory cannot be reached or went away; the step stops and nothing is committed as done. */
export class ServerDownError extends Error {
  constructor(
    agent: string,
    detail: string,
    /** The agent already retried as configured: the engine must not retry it again. */
    readonly final = false,
  ) {
    super(`agent "${agent}": directory unavailable: ${detail}`);
    this.name = 'ServerDownError';
  }
}

/**
 * A failure the directory says is temporary (busy, unavailable, throttled): the same request may
 * succeed a moment later, so the engine retries it with backoff a bounded number of times.
 */
export class TransientError extends Error {
  constructor(
    agent: string,
    detail: string,
    /** How long the server asked the client to wait (Retry-After), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(`agent "${agent}": temporary failure: ${detail}`);
    this.name = 'TransientError';
  }
}

/**
 * The directory cannot give a delta from this watermark (an expired DirSync cookie, a domain controller
 * restored from backup, a purged change log, a watermark of another strategy). The engine says why and
 * runs a full import instead: a gap in the change stream must never be skipped silently.
 */
export class DeltaUnavailableError extends Error {
  constructor(
    agent: string,
    readonly reason: string,
    /** True when a full comparison is the agent's normal delta (a file has no change log): no warning. */
    readonly expected = false,
  ) {
    super(`agent "${agent}": no delta available: ${reason}`);
    this.name = 'DeltaUnavailableError';
  }
}

/**
 * The source stopped its answer short: a directory's size or time limit (Domino's "Maximum number of
 * entries returned", AD's MaxPageSize on an unpaged search, slapd's sizelimit and timelimit), or a file
 * that is still being written. What was read is real, but the read is not complete: nothing may be
 * concluded from what it did not return.
 */
export class IncompleteReadError extends Error {
  constructor(
    agent: string,
    /** What happened, what was concluded (nothing) and how to fix it. */
    detail: string,
  ) {
    super(`agent "${agent}": ${detail}`);
    this.name = 'IncompleteReadError';
  }
}

/** An object that left the agent's view: deleted, moved out of its base, or no longer matching its filter. */
export interface GoneObject {
  anchor?: string;
  dn?: string;
}

/** One page of imported objects and per-entry problems found while reading them. */
export interface ImportPage {
  /** Objects as the directory holds them now (full images, also in a delta). */
  objects: ConnectorObject[];
  /** Only in a delta: objects gone from the view; unknown ones are ignored. */
  gone?: GoneObject[];
  errors: ObjectError[];
  /**
   * Where a later delta import starts. A delta page's watermark is committed with that page's staged
   * changes; a full import's only when the whole import (and its deletion pass) has been staged.
   */
  watermark?: string;
}

/** One page of a deletion check: the anchors of the objects in view, and the DNs of those whose anchor could not be read. */
export interface AnchorPage {
  anchors: string[];
  unreadable: string[];
}

/** What the engine offers an agent while it runs: a place to report retries (they become warnings). */
export interface AgentHooks {
  onRetry?: (object: string, message: string) => void;
}

export interface Agent {
  readonly name: string;
  /** The lower-case attribute that holds the anchor, as the agent reports it. */
  readonly anchorAttribute: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * After a ServerDownError: replaces a connection that failed with a new one (a no-op when it was
   * already replaced, so concurrent exports that failed together reconnect once).
   */
  reconnect?(): Promise<void>;
  /** Every object in scope, page by page; the engine never holds a whole directory. */
  fullImport(): AsyncIterable<ImportPage>;
  /** What changed since the watermark; throws DeltaUnavailableError when it cannot say. */
  deltaImport?(watermark: string): AsyncIterable<ImportPage>;
  /**
   * Set when the agent's delta imports cannot see deletions themselves (Domino's modification
   * times): each delta import then compares the anchors in view (listAnchors) with the connector
   * space, at most once every `everyMinutes` (0: every delta import).
   */
  readonly deletionCheck?: { everyMinutes: number };
  /** The anchor of every object in view, page by page, and nothing else: the cheap read a deletion check compares. */
  listAnchors?(): AsyncIterable<AnchorPage>;
  /** One object as the directory holds it now, or undefined when it is not (or no longer) in view. */
  readObject?(dn: string): Promise<ConnectorObject | undefined>;
  /** Adds, modifies (the full new value set of each changed attribute), renames and deletes one object. Absent: the agent imports only. */
  exportObject?(op: ExportOperation): Promise<ExportResult>;
  /**
   * ConnId's TestOp: connects, signs in, and checks that what the config names exists (the base, the
   * attributes, the controls a strategy needs). Each finding is one line; an empty list means all is well.
   */
  test?(): Promise<AgentCheck[]>;
}

/** One thing `dirbridge test-agent` checked, and what it found. */
export interface AgentCheck {
  check: string;
  ok: boolean;
  /** What was found, and when not ok, how to fix it. */
  detail: string;
}
