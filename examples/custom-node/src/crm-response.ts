import type { JsonObject } from '@convoflow/engine';

/** A customer as Acme's CRM returns it from `GET /customers?email=`. */
export interface CrmCustomer {
  id: string;
  name: string;
  email: string;
  /** Loyalty tier: `standard`, `silver` or `gold`. */
  tier: string;
  /** Total spend so far, in the account currency. */
  lifetimeValue: number;
}

/**
 * Reads the body of `GET /customers?email=`: `{"customers": [...]}`. Returns the first customer,
 * `null` for an empty list, or `undefined` when the body is not the CRM's shape.
 *
 * Pure.
 */
export function firstCustomer(body: unknown): CrmCustomer | null | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { customers?: unknown }).customers)) return undefined;
  const [first] = (body as { customers: unknown[] }).customers;
  if (first === undefined) return null;
  if (typeof first !== 'object' || first === null) return undefined;
  const c = first as Record<string, unknown>;
  if (typeof c.id !== 'string' || typeof c.email !== 'string') return undefined;
  return {
    id: c.id,
    name: typeof c.name === 'string' ? c.name : '',
    email: c.email,
    tier: typeof c.tier === 'string' ? c.tier : 'standard',
    lifetimeValue: typeof c.lifetimeValue === 'number' ? c.lifetimeValue : 0,
  };
}

/** What the node records as `nodes.<id>.*` for a customer found. */
export const customerData = (customer: CrmCustomer): JsonObject => ({
  customerId: customer.id,
  name: customer.name,
  tier: customer.tier,
  lifetimeValue: customer.lifetimeValue,
});
