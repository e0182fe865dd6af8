import type { JsonObject } from '@convoflow/engine';
import { HttpProblem, type FieldError } from '../http/problem.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { isStorageError } from '../storage/errors.js';
import type { ContactChannelIdentity } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';
import { contactView } from './views.js';

const tag = 'contacts';

/** The 409 for identities that belong to other contacts, naming each and whose it is. */
async function identityConflict(ctx: ApiContext, workspaceId: string, identities: ContactChannelIdentity[]): Promise<HttpProblem> {
  const errors: FieldError[] = [];
  for (const [i, identity] of identities.entries()) {
    const owner = await ctx.store.contacts.findByIdentity(workspaceId, identity);
    if (owner) errors.push({ field: `/identities/${i}`, message: `belongs to contact ${owner.id}` });
  }
  // Listed twice in the same request, or taken between the check and the write.
  if (errors.length === 0) errors.push({ field: '/identities', message: 'names the same channel identity twice, or one another contact took meanwhile' });
  return new HttpProblem(409, 'conflict', 'A channel identity can belong to one contact only; update that contact instead.', { errors });
}

/**
 * Routes of contacts. They are written through the runtime, which stores each change with the
 * event that fires contact triggers, in one transaction.
 */
export function contactRoutes(ctx: ApiContext): RouteSpec[] {
  const { store, runtime } = ctx;
  return [
    defineRoute<{ fields: JsonObject; identities?: ContactChannelIdentity[] }>({
      method: 'post',
      path: '/api/contacts',
      operationId: 'createContact',
      summary: 'Create a contact (fires contact-created triggers)',
      tag,
      permission: 'contacts:write',
      body: { schema: 'CreateContactRequest' },
      responses: {
        201: { description: 'Created', schema: 'Contact' },
        409: { description: 'A channel identity belongs to another contact', schema: 'Problem' },
      },
      handle: async ({ auth, body }) => {
        const identities = body.identities ?? [];
        const contact = await runtime.createContact(auth.workspaceId, body.fields, identities, ctx.now()).catch(async (err: unknown) => {
          if (!isStorageError(err, 'CONFLICT')) throw err;
          throw await identityConflict(ctx, auth.workspaceId, identities);
        });
        return { status: 201, body: contactView(contact), headers: { Location: `/api/contacts/${encodeURIComponent(contact.id)}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/contacts',
      operationId: 'listContacts',
      summary: 'List contacts',
      tag,
      permission: 'contacts:read',
      query: {
        limit: { schema: { type: 'integer', minimum: 1, maximum: 500 }, description: 'Page size (default 50)' },
        cursor: { schema: { type: 'string', minLength: 1 }, description: 'The `next` of the previous page' },
      },
      responses: { 200: { description: 'A page of contacts', schema: 'ContactList' } },
      handle: async ({ auth, query }) => {
        const page = await store.contacts.list(auth.workspaceId, query as { limit?: number; cursor?: string });
        return { status: 200, body: { items: page.items.map(contactView), ...(page.next ? { next: page.next } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/contacts/:id',
      operationId: 'getContact',
      summary: 'Get a contact',
      tag,
      permission: 'contacts:read',
      responses: { 200: { description: 'The contact', schema: 'Contact' } },
      handle: async ({ auth, params }) => {
        const contact = params.id === undefined ? undefined : await store.contacts.get(auth.workspaceId, params.id);
        if (!contact) throw HttpProblem.notFound('contact', String(params.id));
        return { status: 200, body: contactView(contact) };
      },
    }),
    defineRoute<{ fields: JsonObject }>({
      method: 'patch',
      path: '/api/contacts/:id',
      operationId: 'updateContact',
      summary: 'Merge fields into a contact (fires contact-updated triggers for changed fields)',
      tag,
      permission: 'contacts:write',
      body: { schema: 'UpdateContactRequest' },
      responses: { 200: { description: 'The contact after the change', schema: 'Contact' } },
      handle: async ({ auth, params, body }) => {
        const result = params.id === undefined ? undefined : await runtime.updateContact(auth.workspaceId, params.id, body.fields, ctx.now());
        if (!result) throw HttpProblem.notFound('contact', String(params.id));
        return { status: 200, body: contactView(result.contact) };
      },
    }),
  ];
}
