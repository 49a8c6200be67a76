import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../logging/logger.js';
import type { Store } from '../store/store.js';
import type { TenantPool } from '../tenants/tenant-pool.js';
import { requestContext } from './request-context.js';
import { securityHeaders } from './security-headers.js';
import { errorHandler } from './error-handler.js';
import { resolveTenant, dispatchToProvider, TENANT_PREFIX } from './tenant-routing.js';
import { healthRoutes } from './health.js';
import { staticRoutes } from './static-files.js';

export interface AppDependencies {
  store: Store;
  pool: TenantPool;
  logger: Logger;
  publicUrl: string;
  trustProxy: boolean;
  /** Gatehouse's own routes under /t/:tenant (pages, SCIM, ...); the provider gets the rest. */
  tenantRouters?: Router[];
  /** Cookie signing keys of the root app (for Gatehouse's own cookies). */
  cookieKeys: string[];
}

/** Paths below `/t/<tenant>` that only oidc-provider serves (see oidc-provider's default routes). */
const PROVIDER_ONLY_PATHS = new Set(['/token', '/jwks', '/me', '/token/introspection', '/token/revocation', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);

/**
 * The root Koa app: request id and logging, security headers, errors, health, static files,
 * then per-tenant routing. Request bodies are parsed only by the routes that need them, never
 * before a request reaches oidc-provider (it parses its own).
 */
export function createApp(deps: AppDependencies): Koa {
  const app = new Koa({ proxy: deps.trustProxy, keys: deps.cookieKeys });
  app.silent = true;
  app.use(requestContext(deps.logger));
  app.use(securityHeaders({ https: deps.publicUrl.startsWith('https:') }));
  app.use(errorHandler());
  // Health and static routes live outside /t/: tenant requests (every token) skip their matching.
  for (const router of [healthRoutes(deps.store), staticRoutes()]) {
    const routes = router.routes();
    const allowed = router.allowedMethods();
    app.use((ctx, next) => (TENANT_PREFIX.test(ctx.path) ? next() : routes(ctx as Parameters<typeof routes>[0], () => allowed(ctx as Parameters<typeof allowed>[0], next))));
  }
  app.use(resolveTenant(deps.store));
  // The provider's own endpoints (the token endpoint above all) skip Gatehouse's tenant routers:
  // none of them serves these paths, and matching every router costs on the hottest path.
  const toProvider = dispatchToProvider(deps.pool);
  app.use((ctx, next) => (PROVIDER_ONLY_PATHS.has(ctx.state.tenantPath) ? toProvider(ctx) : next()));
  for (const router of deps.tenantRouters ?? []) app.use(router.routes());
  app.use(toProvider);
  return app;
}
