/** A condition rule is malformed (unknown operator, not a rule object, nested too deep). */
export class ConditionError extends Error {
  readonly code = 'CONDITION_INVALID';
  constructor(
    message: string,
    /** Where in the rule the problem is, as a JSON pointer (e.g. `/all/1/operator`). */
    readonly path: string,
  ) {
    super(`${message} at ${path || '/'}`);
    this.name = 'ConditionError';
  }
}
