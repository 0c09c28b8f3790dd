/** A problem with one object, as every step reports it and the run history keeps it. */

/**
 * Every code a problem can carry (docs/safety.md explains them), so that a misspelt one is a type
 * error; and, from a directory that refused a write, its result named as a code (see DirectoryResultCode).
 */
export type ProblemCode =
  | 'address-conflict'
  | 'x500-not-written'
  | 'already-exists'
  | 'ambiguous-join'
  | 'ambiguous-move'
  | 'unresolved-member'
  | 'control-characters'
  | 'delta-not-supported'
  | 'delta-unavailable'
  | 'dn-collision'
  | 'duplicate-address'
  | 'duplicate-anchor'
  | 'export-failed'
  | 'export-outcome-reconciled'
  | 'export-refused'
  | 'exported-change-not-reimported'
  | 'incomplete-read'
  | 'insufficient-access'
  | 'invalid-dn'
  | 'invalid-guid'
  | 'invalid-ldif'
  | 'invalid-smtp-address'
  | 'invalid-utf8'
  | 'invalid-value'
  | 'missing-anchor'
  | 'missing-attribute'
  | 'multiple-anchors'
  | 'no-provisioning-rule'
  | 'no-such-object'
  | 'no-watermark'
  | 'not-supported'
  | 'object-error'
  | 'ownership-stamp-missing'
  | 'retried'
  | 'staging-mode'
  | 'sync-failed'
  | 'target-not-imported'
  | 'tls-not-verified'
  | 'transient-failure'
  | DirectoryResultCode;

/** A directory's refusal of a write, named after its LDAP result (no-such-attribute, constraint-violation, ...): made only by the LDAP agent from ldapts's error class. */
export type DirectoryResultCode = string & { readonly __directoryResult: true };

export type Severity = 'error' | 'warning';

/** What a rule found wrong with an object: the attribute when one is to blame, a code, a message. */
export interface RuleProblem {
  attribute?: string | undefined;
  code: ProblemCode;
  message: string;
}

/** A problem a step reports: which object, how bad. */
export interface ObjectProblem extends RuleProblem {
  severity: Severity;
  object: string;
}

/** A problem as the run history records it: with the agent whose step found it. */
export interface RunProblem extends ObjectProblem {
  agent: string;
}
