import type { JsonObject, JsonSchema } from '@convoflow/engine';
import { can, ROLES } from '../auth/roles.js';
import { openApiPath, pathParamNames, type ResponseSpec, type RouteSpec } from '../http/route.js';

const PROBLEM_JSON = 'application/problem+json';

/** Metadata of the document. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * Builds the OpenAPI 3.1 document of the API from the route table itself, so every mounted route is
 * described, with the request and response schemas the server validates against. Pure.
 *
 * @example
 * const doc = buildOpenApiDocument(routes, API_SCHEMAS, { title: 'Convoflow API', version: '0.1.0' });
 */
export function buildOpenApiDocument(routes: RouteSpec[], schemas: Record<string, JsonSchema>, info: OpenApiInfo): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths: paths as unknown as JsonObject,
    components: {
      schemas: schemas as JsonObject,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (`cf_...`) or an embed token (`cfe_...`). Roles: admin, team_admin, staff.',
        },
        webhookSecret: { type: 'apiKey', in: 'header', name: 'X-Convoflow-Secret', description: 'The webhook trigger\'s secret' },
        webhookSecretQuery: { type: 'apiKey', in: 'query', name: 'secret', description: 'The webhook trigger\'s secret' },
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Convoflow-Signature',
          description: 'sha256=<hex HMAC-SHA256 of the raw body keyed with the trigger\'s secret>',
        },
      },
    },
  };
}

function operation(route: RouteSpec): JsonObject {
  const parameters: JsonObject[] = [];
  for (const name of pathParamNames(route.path)) {
    const spec = route.pathParams?.[name];
    parameters.push({ name, in: 'path', required: true, schema: spec?.schema ?? { type: 'string' }, ...(spec ? { description: spec.description } : {}) });
  }
  for (const [name, spec] of Object.entries(route.query ?? {})) {
    parameters.push({ name, in: 'query', required: spec.required ?? false, description: spec.description, schema: spec.schema });
  }
  for (const [name, spec] of Object.entries(route.headers ?? {})) {
    parameters.push({ name, in: 'header', required: spec.required ?? false, description: spec.description, schema: spec.schema });
  }

  const responses: Record<string, JsonObject> = {};
  const add = (status: number | 'default', spec: ResponseSpec) => {
    const key = String(status);
    if (responses[key]) return;
    const contentType = spec.contentType ?? (spec.schema === 'Problem' ? PROBLEM_JSON : 'application/json');
    responses[key] = {
      description: spec.description,
      ...(spec.schema || spec.contentType
        ? { content: { [contentType]: { schema: spec.schema ? { $ref: `#/components/schemas/${spec.schema}` } : { type: 'string' } } } }
        : {}),
    };
  };
  for (const [status, spec] of Object.entries(route.responses)) add(Number(status), spec);
  const problem = (description: string): ResponseSpec => ({ description, schema: 'Problem' });
  if (route.access.kind === 'bearer') {
    add(401, problem('Missing, unknown, revoked or expired credential'));
    add(403, problem(`The caller's role lacks ${route.access.permission}`));
  }
  if (route.body) {
    add(400, problem('Malformed JSON'));
    add(413, problem('The body is larger than the server\'s limit'));
    add(415, problem('The body is not JSON'));
  }
  if (route.body || route.query) add(422, problem('Validation failed; `errors` names each bad field'));
  if (pathParamNames(route.path).length > 0) add(404, problem('Not found in the caller\'s workspace'));
  add('default', problem('Unexpected error'));

  const access = route.access;
  const security: JsonObject[] =
    access.kind === 'bearer'
      ? [{ bearerAuth: [] }]
      : access.kind === 'webhook-secret'
        ? [{ webhookSecret: [] }, { webhookSecretQuery: [] }, { webhookSignature: [] }]
        : [];

  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required ?? true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.body.schema}` } } },
          },
        }
      : {}),
    responses,
    security,
    ...(access.kind === 'bearer'
      ? { 'x-permission': access.permission, 'x-roles': ROLES.filter((role) => can(role, access.permission)) }
      : {}),
  };
}
