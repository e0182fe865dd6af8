import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { analyseTemplate } from './template-analysis.js';
import { ISO_DURATION_PATTERN } from '../internal/iso-duration.js';
import { userPatternProblem } from '../patterns/user-pattern.js';
import { cronProblem, isTimezone } from '../schedule/schedule-checks.js';

/** @internal An ISO-8601 duration such as `PT24H`, `PT30M`, `P2D` or `P1DT12H` (no years or months). */
export const ISO_DURATION = new RegExp(ISO_DURATION_PATTERN);

/** @internal The ajv instance type used by the validator. */
export type AjvInstance = InstanceType<typeof Ajv2020>;

/**
 * @internal
 * Creates an Ajv (JSON Schema 2020-12) instance with every error reported, the standard formats,
 * and Convoflow's formats: `template` (parses as a handlebars template), `duration` (ISO 8601),
 * `regex` (compiles for RE2, as patterns run), `cron` and `timezone` (as the scheduler reads
 * them). `verbose` keeps the failing schema on each error so messages can use field titles.
 *
 * Strict mode is on for our own schemas; node manifests come from third-party packages, so their
 * params schemas are compiled leniently (unknown keywords ignored rather than fatal).
 */
export function createAjv(strict: boolean): AjvInstance {
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict,
    allowUnionTypes: true,
    logger: false,
  });
  addFormats(ajv);
  ajv.addFormat('template', { type: 'string', validate: (s: string) => analyseTemplate(s).problem === undefined });
  ajv.addFormat('duration', { type: 'string', validate: ISO_DURATION });
  // Patterns run on RE2 (see compileUserPattern): valid means valid there, not in JavaScript.
  ajv.addFormat('regex', { type: 'string', validate: (s: string) => userPatternProblem(s) === undefined });
  // As the scheduler will parse them: a schedule it refuses must not be publishable.
  ajv.addFormat('cron', { type: 'string', validate: (s: string) => cronProblem(s) === undefined });
  ajv.addFormat('timezone', { type: 'string', validate: isTimezone });
  return ajv;
}
