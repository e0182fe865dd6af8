import type { Role } from '../storage/storage-port.js';

export type { Role } from '../storage/storage-port.js';

/** Every role, most powerful first. */
export const ROLES: readonly Role[] = ['admin', 'team_admin', 'staff'];

/** What a route may require of its caller. */
export type Permission =
  | 'flows:read'
  | 'flows:write'
  | 'flows:publish'
  | 'flows:delete'
  | 'flows:rollback'
  | 'runs:read'
  | 'runs:start'
  | 'runs:manage'
  | 'contacts:read'
  | 'contacts:write'
  | 'catalogue:read'
  | 'simulator:use'
  | 'apiKeys:manage'
  | 'embedTokens:create'
  | 'workspace:read'
  | 'workspace:manage';

const EVERYTHING: readonly Permission[] = [
  'flows:read',
  'flows:write',
  'flows:publish',
  'flows:delete',
  'flows:rollback',
  'runs:read',
  'runs:start',
  'runs:manage',
  'contacts:read',
  'contacts:write',
  'catalogue:read',
  'simulator:use',
  'apiKeys:manage',
  'embedTokens:create',
  'workspace:read',
  'workspace:manage',
];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(EVERYTHING),
  team_admin: new Set(EVERYTHING.filter((p) => p !== 'apiKeys:manage' && p !== 'embedTokens:create' && p !== 'workspace:manage')),
  staff: new Set(
    EVERYTHING.filter(
      (p) => !['flows:publish', 'flows:delete', 'flows:rollback', 'apiKeys:manage', 'embedTokens:create', 'workspace:manage'].includes(p),
    ),
  ),
};

/**
 * Whether a role holds a permission. Pure.
 *
 * Staff cannot publish, delete flows, roll back or manage API keys; team admins cannot manage API
 * keys, mint embed tokens or change workspace settings; admins can do everything in their workspace.
 *
 * @example
 * can('staff', 'flows:publish'); // false
 */
export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** Type guard for a role name coming from outside. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
