import Router from '@koa/router';
import { z } from 'zod';
import type { Services } from '../services.js';
import { readChanges, MAX_CHANGES_PAGE } from './change-feed.js';
import { authenticateDirectoryRequest, DIRECTORY_SCOPES, tenantIssuer } from './directory-api-auth.js';
import { GatehouseError, isGatehouseError } from '../errors/gatehouse-error.js';
import { bearerChallenge } from '../http/tenant-access-token.js';

const querySchema = z.strictObject({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CHANGES_PAGE).optional(),
});

/**
 * `GET /t/<tenant>/directory/changes?after=<cursor>&limit=<n>`: the tenant's directory changes in
 * order (change-feed.ts), for an access token with the `directory:changes` scope. Errors use
 * Gatehouse's JSON error shape; refused tokens also get an RFC 6750 challenge.
 */
export function createChangeFeedRouter(services: Services): Router {
  const router = new Router();
  router.get('/t/:tenant/directory/changes', async (ctx) => {
    try {
      await authenticateDirectoryRequest(ctx, services, [DIRECTORY_SCOPES.changes]);
    } catch (error) {
      if (isGatehouseError(error) && (error.status === 401 || error.status === 403)) {
        ctx.set('WWW-Authenticate', bearerChallenge(tenantIssuer(services, ctx.state.tenant.id), error));
      }
      throw error;
    }
    const parsed = querySchema.safeParse(ctx.query);
    if (!parsed.success) throw new GatehouseError('directory.invalid_query', `the query is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'query'} ${i.message}`).join('; ')}`, { status: 400 });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await readChanges(services.store.forTenant(ctx.state.tenant.id), parsed.data);
  });
  return router;
}
