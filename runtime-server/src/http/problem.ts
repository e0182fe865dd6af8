import type { JsonObject } from '@convoflow/engine';

/** One thing wrong with a request, named by where it is. */
export interface FieldError {
  /** A JSON pointer into the body (`/nodes/0/id`), or a dotted name for headers and query (`query.limit`). */
  field: string;
  message: string;
}

/** An RFC 9457 problem document, as every error response of the API carries it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: FieldError[];
  requestId?: string;
  /** Extension members (e.g. `diagnostics` on a refused publish). */
  [extension: string]: unknown;
}

/** Where problem types are documented; the `type` member is this plus a slug. */
export const PROBLEM_TYPE_BASE = 'https://convoflow.dev/problems/';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * An error a handler throws to answer with a problem document. The error middleware turns it into
 * `application/problem+json`; anything else thrown becomes a 500.
 *
 * @example
 * throw new HttpProblem(404, 'not-found', `No flow ${id} in this workspace.`);
 * throw HttpProblem.validation([{ field: '/name', message: 'must be a non-empty string' }]);
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly errors?: FieldError[];
  readonly extensions?: JsonObject;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    detail: string,
    options: { errors?: FieldError[]; extensions?: JsonObject; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.slug = slug;
    if (options.errors) this.errors = options.errors;
    if (options.extensions) this.extensions = options.extensions;
    if (options.headers) this.headers = options.headers;
  }

  /** 422 with the fields that are wrong. */
  static validation(errors: FieldError[], detail?: string): HttpProblem {
    const first = errors[0];
    return new HttpProblem(422, 'validation', detail ?? (first ? `${first.field}: ${first.message}` : 'The request is invalid.'), {
      errors,
    });
  }

  /** 404 for a resource missing in the caller's workspace. */
  static notFound(what: string, id: string): HttpProblem {
    return new HttpProblem(404, 'not-found', `No ${what} ${JSON.stringify(id)} in this workspace.`);
  }

  /** Renders the problem document for a request. */
  toDocument(instance: string, requestId?: string): ProblemDocument {
    return problemDocument(this.status, this.slug, this.message, instance, {
      ...(this.errors ? { errors: this.errors } : {}),
      ...(requestId ? { requestId } : {}),
      ...this.extensions,
    });
  }
}

/** Builds a problem document. Pure. */
export function problemDocument(
  status: number,
  slug: string,
  detail: string,
  instance: string,
  extra: Record<string, unknown> = {},
): ProblemDocument {
  return {
    type: PROBLEM_TYPE_BASE + slug,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance,
    ...extra,
  };
}
