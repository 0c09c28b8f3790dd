/** A problem with one object, as every step reports it and the run history keeps it. */

export type Severity = 'error' | 'warning';

/** What a rule found wrong with an object: the attribute when one is to blame, a code, a message. */
export interface RuleProblem {
  attribute?: string | undefined;
  code: string;
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
