import type { JsonObject } from '@convoflow/engine';
import type { RouteSpec } from '../http/route.js';
import { apiKeyRoutes } from './api-keys.routes.js';
import { catalogueRoutes } from './catalogue.routes.js';
import { contactRoutes } from './contacts.routes.js';
import type { ApiContext } from './context.js';
import { embedTokenRoutes } from './embed-tokens.routes.js';
import { flowRoutes } from './flows.routes.js';
import { hookRoutes } from './hooks.routes.js';
import { runRoutes } from './runs.routes.js';
import { simulatorRoutes } from './simulator.routes.js';
import { systemRoutes } from './system.routes.js';
import { workspaceRoutes } from './workspace.routes.js';

/** Every route of the API, in mounting order. */
export function apiRoutes(ctx: ApiContext, openApiDocument: () => JsonObject): RouteSpec[] {
  return [
    ...systemRoutes(ctx, openApiDocument),
    ...flowRoutes(ctx),
    ...runRoutes(ctx),
    ...catalogueRoutes(ctx),
    ...contactRoutes(ctx),
    ...workspaceRoutes(ctx),
    ...apiKeyRoutes(ctx),
    ...embedTokenRoutes(ctx),
    ...hookRoutes(ctx),
    ...simulatorRoutes(ctx),
  ];
}
