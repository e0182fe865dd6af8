/**
 * @module @convoflow-examples/custom-node
 *
 * A custom node for Convoflow: `acme.crm_lookup` finds a customer in Acme's CRM by email. Register
 * it beside the built-in nodes and hand the catalogue to the validator, the compiler and the
 * runtime:
 *
 * ```ts
 * import { acmeCatalogue } from '@convoflow-examples/custom-node';
 * const diagnostics = validate(flow, acmeCatalogue);
 * const parts = await bootstrap(config, { catalogue: acmeCatalogue });
 * ```
 */
import { builtinNodes, createCatalogue } from '@convoflow/nodes';
import { crmLookupNode } from './crm-lookup.node.js';

export { crmLookupNode, lookUpCustomer, DEFAULT_CRM_URL } from './crm-lookup.node.js';
export type { CrmLookupParams } from './crm-lookup.node.js';
export { firstCustomer, customerData } from './crm-response.js';
export type { CrmCustomer } from './crm-response.js';

/** The built-in nodes plus `acme.crm_lookup`. */
export const acmeCatalogue = createCatalogue([...builtinNodes, crmLookupNode]);
