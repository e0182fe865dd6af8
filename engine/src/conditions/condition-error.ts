import { ConvoflowError } from '../errors.js';

/** A condition rule is malformed (unknown operator, not a rule object, nested too deep). */
export class ConditionError extends ConvoflowError {
  constructor(
    message: string,
    /** Where in the rule the problem is, as a JSON pointer (e.g. `/all/1/operator`). */
    readonly path: string,
  ) {
    super('CONDITION_INVALID', `${message} at ${path || '/'}`, {
      help: 'A condition rule is malformed: every comparison needs a field and a known operator, and groups hold lists of rules. Open the condition in the designer and fix the highlighted rule.',
    });
  }
}
