import type { Context, Next } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { isValidTenantId } from '../tenants/tenant-id.js';
import type { Store } from '../store/store.js';
import type { TenantPool } from '../tenants/tenant-pool.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';

declare module 'koa' {
  interface DefaultState {
    tenant: TenantRecord;
    /** The path below `/t/<tenant>`, with a leading slash. */
    tenantPath: string;
  }
}

export const TENANT_PREFIX = /^\/t\/([^/]+)(\/.*)?$/;

const PROVIDER_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'";

/**
 * Resolves the tenant of `/t/<tenant>/...` once per request, before anything else of the
 * tenant runs. The tenant row is read on every request: it is how a change made by another
 * server process (a suspension, a new app, a rotated key) takes effect on the next request.
 * Unknown and suspended tenants stop here and never reach a provider.
 */
export function resolveTenant(store: Store) {
  return async (ctx: Context, next: Next) => {
    const match = TENANT_PREFIX.exec(ctx.path);
    if (!match) return next();
    const id = match[1]!;
    if (!isValidTenantId(id)) throw new GatehouseError('tenant.not_found', `no tenant "${id.slice(0, 64)}"`, { status: 404 });
    const tenant = await store.forTenant(id).tenant();
    if (!tenant) throw new GatehouseError('tenant.not_found', `no tenant "${id}"`, { status: 404 });
    if (tenant.status === 'suspended') throw new GatehouseError('tenant.suspended', `tenant "${id}" is suspended`, { status: 403 });
    if (tenant.status === 'offboarding') throw new GatehouseError('tenant.offboarding', `tenant "${id}" is being offboarded`, { status: 403 });
    ctx.state.tenant = tenant;
    ctx.state.tenantPath = match[2] ?? '/';
    return next();
  };
}

/**
 * Hands a tenant request that no Gatehouse route claimed to the tenant's oidc-provider, with the
 * tenant prefix stripped. The provider builds its endpoint URLs from a mount path: we give it as
 * `req.baseUrl` and leave `req.originalUrl` unset, because the provider would derive the mount
 * path from originalUrl by searching for the rest of the path in it, which goes wrong when the
 * tenant id equals an endpoint name (a tenant called "token").
 */
export function dispatchToProvider(pool: TenantPool) {
  return async (ctx: Context) => {
    if (!ctx.state.tenant) return;
    const runtime = await pool.runtimeFor(ctx.state.tenant);
    const query = ctx.querystring ? `?${ctx.querystring}` : '';
    // oidc-provider's own pages: the form_post response auto-submits with an inline script whose
    // hash the provider adds to script-src, and posts to the app's (validated) redirect URI, so
    // form-action is not restricted here; our own pages keep the stricter policy.
    ctx.set('Content-Security-Policy', PROVIDER_CSP);
    ctx.req.url = ctx.state.tenantPath + query;
    (ctx.req as typeof ctx.req & { baseUrl?: string }).baseUrl = `/t/${ctx.state.tenant.id}`;
    ctx.respond = false;
    await runtime.handle(ctx.req, ctx.res);
  };
}
