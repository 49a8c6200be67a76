import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Services } from '../services.js';
import { authenticateDirectoryRequest, DIRECTORY_SCOPES, tenantIssuer, tokenActor } from '../directory/directory-api-auth.js';
import { bearerChallenge } from '../http/tenant-access-token.js';
import { requestOrigin } from '../http/request-context.js';
import { isGatehouseError, notFound } from '../errors/gatehouse-error.js';
import { scimError, scimErrorResponse } from './protocol/scim-error.js';
import { readScimBody, requireResourceBody, SCIM_MEDIA_TYPE } from './protocol/scim-body.js';
import { parseListRequest } from './protocol/list-request.js';
import { etagOf, ifNoneMatchHits } from './protocol/etag.js';
import { patchRequestSchema, type PatchRequest } from './protocol/patch-operations.js';
import { project } from './protocol/projection.js';
import { listResponse } from './protocol/list-request.js';
import { resourceTypes, SCHEMAS, serviceProviderConfig } from './resources/discovery.js';
import { schemaResource, USER_SCHEMA_ID, GROUP_SCHEMA_ID } from './resources/resource-schemas.js';
import type { ScimContext } from './resources/scim-context.js';
import * as users from './resources/user-resource.js';
import * as groups from './resources/group-resource.js';

declare module 'koa' {
  interface DefaultState {
    scim?: ScimContext;
  }
}

const PREFIX = '/t/:tenant/scim/v2';

function respond(ctx: Context, status: number, body: unknown, version?: number): void {
  ctx.status = status;
  ctx.type = SCIM_MEDIA_TYPE;
  ctx.body = body;
  if (version !== undefined) ctx.set('ETag', etagOf(version));
}

/** SCIM errors in the SCIM error schema (RFC 7644 3.12), not Gatehouse's usual JSON error shape. */
function scimErrors(services: Services) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      const { status, body } = scimErrorResponse(error, ctx.state.requestId);
      if (status >= 500) ctx.state.log?.error({ err: error }, 'SCIM request failed');
      else ctx.state.log?.info({ code: isGatehouseError(error) ? error.code : undefined, status }, 'SCIM request refused');
      if (isGatehouseError(error) && error.code.startsWith('auth.')) ctx.set('WWW-Authenticate', bearerChallenge(tenantIssuer(services, ctx.state.tenant.id), error));
      respond(ctx, status, body);
    }
  };
}

/** Authenticates, then builds the SCIM context of the request. */
function scimContext(services: Services) {
  return async (ctx: Context, next: Next) => {
    const write = !['GET', 'HEAD'].includes(ctx.method) && !ctx.path.endsWith('/.search');
    const token = await authenticateDirectoryRequest(ctx, services, write ? [DIRECTORY_SCOPES.scimWrite] : [DIRECTORY_SCOPES.scimRead, DIRECTORY_SCOPES.scimWrite]);
    ctx.state.scim = {
      tenant: ctx.state.tenant,
      store: services.store.forTenant(ctx.state.tenant.id),
      baseUrl: `${tenantIssuer(services, ctx.state.tenant.id)}/scim/v2`,
      actor: tokenActor(token),
      origin: requestOrigin(ctx),
      audit: services.audit,
      ifMatch: ctx.get('if-match') || undefined,
    };
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

function single(query: Context['query'], name: string): string[] | undefined {
  const v = query[name];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

async function patchBody(ctx: Context): Promise<PatchRequest> {
  const body = await readScimBody(ctx);
  const parsed = patchRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw scimError('scim.invalid_syntax', 'invalidSyntax', `not a PATCH request: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The SCIM 2.0 server of a tenant at `/t/<tenant>/scim/v2` (RFC 7644 section 3.2 endpoints
 * /Users, /Groups, /ServiceProviderConfig, /ResourceTypes, /Schemas). Reading needs `scim:read`
 * (or `scim:write`), writing `scim:write`, on an access token of the tenant for `<issuer>/directory`.
 */
export function createScimRouter(services: Services): Router {
  const router = new Router({ prefix: PREFIX });
  router.use(scimErrors(services), scimContext(services));
  const sc = (ctx: Context) => ctx.state.scim!;

  router.get('/ServiceProviderConfig', (ctx) => respond(ctx, 200, serviceProviderConfig(sc(ctx).baseUrl)));
  router.get('/ResourceTypes', (ctx) => {
    const all = resourceTypes(sc(ctx).baseUrl);
    respond(ctx, 200, listResponse(all.length, 1, all));
  });
  router.get('/ResourceTypes/:id', (ctx) => {
    const found = resourceTypes(sc(ctx).baseUrl).find((r) => r.id === ctx.params.id);
    if (!found) throw notFound('scim.not_found', `no resource type "${ctx.params.id}"`);
    respond(ctx, 200, found);
  });
  router.get('/Schemas', (ctx) => {
    const all = SCHEMAS.map((s) => schemaResource(s, sc(ctx).baseUrl));
    respond(ctx, 200, listResponse(all.length, 1, all));
  });
  router.get('/Schemas/:id', (ctx) => {
    const found = SCHEMAS.find((s) => s.id.toLowerCase() === ctx.params.id!.toLowerCase());
    if (!found) throw notFound('scim.not_found', `no schema "${ctx.params.id}"`);
    respond(ctx, 200, schemaResource(found, sc(ctx).baseUrl));
  });

  // Users
  const userOut = async (ctx: Context, status: number, user: Parameters<typeof users.userRepresentation>[1]) => {
    const body = project(await users.userRepresentation(sc(ctx), user), USER_SCHEMA_ID, single(ctx.query, 'attributes'), single(ctx.query, 'excludedAttributes'));
    if (status === 201) ctx.set('Location', (body.meta as { location: string }).location);
    respond(ctx, status, body, user.version);
  };
  router.get('/Users', async (ctx) => respond(ctx, 200, await users.listUsers(sc(ctx), parseListRequest(ctx.query))));
  router.post('/Users/.search', async (ctx) => respond(ctx, 200, await users.listUsers(sc(ctx), parseListRequest(searchQuery(await readScimBody(ctx))))));
  router.post('/Users', async (ctx) => userOut(ctx, 201, await users.createUser(sc(ctx), requireResourceBody(await readScimBody(ctx), USER_SCHEMA_ID))));
  router.get('/Users/:id', async (ctx) => {
    const user = await users.getUser(sc(ctx), ctx.params.id!);
    if (ifNoneMatchHits(ctx.get('if-none-match') || undefined, user.version)) {
      ctx.status = 304;
      ctx.set('ETag', etagOf(user.version));
      return;
    }
    await userOut(ctx, 200, user);
  });
  router.put('/Users/:id', async (ctx) => userOut(ctx, 200, await users.replaceUser(sc(ctx), ctx.params.id!, requireResourceBody(await readScimBody(ctx), USER_SCHEMA_ID))));
  router.patch('/Users/:id', async (ctx) => userOut(ctx, 200, await users.patchUser(sc(ctx), ctx.params.id!, await patchBody(ctx))));
  router.delete('/Users/:id', async (ctx) => {
    await users.deleteUser(sc(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  // Groups
  const groupOut = async (ctx: Context, status: number, group: Parameters<typeof groups.groupRepresentation>[1]) => {
    const body = project(await groups.groupRepresentation(sc(ctx), group), GROUP_SCHEMA_ID, single(ctx.query, 'attributes'), single(ctx.query, 'excludedAttributes'));
    if (status === 201) ctx.set('Location', (body.meta as { location: string }).location);
    respond(ctx, status, body, group.version);
  };
  router.get('/Groups', async (ctx) => respond(ctx, 200, await groups.listGroups(sc(ctx), parseListRequest(ctx.query))));
  router.post('/Groups/.search', async (ctx) => respond(ctx, 200, await groups.listGroups(sc(ctx), parseListRequest(searchQuery(await readScimBody(ctx))))));
  router.post('/Groups', async (ctx) => groupOut(ctx, 201, await groups.createGroup(sc(ctx), requireResourceBody(await readScimBody(ctx), GROUP_SCHEMA_ID))));
  router.get('/Groups/:id', async (ctx) => {
    const group = await groups.getGroup(sc(ctx), ctx.params.id!);
    if (ifNoneMatchHits(ctx.get('if-none-match') || undefined, group.version)) {
      ctx.status = 304;
      ctx.set('ETag', etagOf(group.version));
      return;
    }
    await groupOut(ctx, 200, group);
  });
  router.put('/Groups/:id', async (ctx) => groupOut(ctx, 200, await groups.replaceGroup(sc(ctx), ctx.params.id!, requireResourceBody(await readScimBody(ctx), GROUP_SCHEMA_ID))));
  router.patch('/Groups/:id', async (ctx) => groupOut(ctx, 200, await groups.patchGroup(sc(ctx), ctx.params.id!, await patchBody(ctx))));
  router.delete('/Groups/:id', async (ctx) => {
    await groups.deleteGroup(sc(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  // Everything else under the SCIM base (/Bulk, /Me, unknown paths) is a SCIM 404 or 501.
  router.all(['/Bulk', '/Me'], () => {
    throw scimError('scim.not_implemented', undefined, 'this SCIM endpoint is not supported (see /ServiceProviderConfig)', 501);
  });
  router.all('/{*rest}', () => {
    throw notFound('scim.not_found', 'there is no SCIM endpoint at this address');
  });
  return router;
}

/** POST .search (RFC 7644 3.4.3): the list parameters as a JSON body, turned into the query form. */
function searchQuery(body: unknown): Record<string, string | undefined> {
  const b = requireResourceBody(body, 'urn:ietf:params:scim:api:messages:2.0:SearchRequest');
  const str = (v: unknown) => (v === undefined || v === null ? undefined : Array.isArray(v) ? v.join(',') : String(v));
  return {
    filter: str(b.filter),
    startIndex: str(b.startIndex),
    count: str(b.count),
    attributes: str(b.attributes),
    excludedAttributes: str(b.excludedAttributes),
  };
}
