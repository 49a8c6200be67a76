import Router from '@koa/router';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from './form-body.js';
import { themeStylesheet } from './pages/theme.js';

/** Authorization requests may carry request objects: allow more than the pages' own forms. */
const MAX_AUTHORIZATION_FORM = 256 * 1024;

/**
 * Small per-tenant routes beside the provider:
 * - the tenant's theme stylesheet (its accent colour; pages carry no inline style);
 * - POST to the authorization and end-session endpoints, turned into the equivalent GET.
 *   OIDC Core 3.1.2.1 and RP-Initiated Logout 1.0 require POST support. oidc-provider only
 *   offers it with SameSite=None session cookies (a cross-site POST does not carry Lax cookies),
 *   which would weaken every other request. A 303 to the same endpoint with the same parameters
 *   is a top-level GET navigation, which does carry the Lax session cookie, so single sign-on
 *   works for POSTed requests while cookies stay SameSite=Lax.
 */
export function tenantPagesRouter(): Router {
  const router = new Router({ prefix: '/t/:tenant' });
  router.get('/theme.css', (ctx) => {
    const accent = ctx.state.tenant.settings.branding.accentColor;
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = accent ? themeStylesheet(accent) : '';
  });
  for (const path of ['/auth', '/session/end']) {
    router.post(path, async (ctx) => {
      const fields = await readForm(ctx, MAX_AUTHORIZATION_FORM);
      if (Object.keys(fields).length === 0) throw new GatehouseError('http.empty_form', 'the request has no parameters', { status: 400 });
      ctx.status = 303;
      ctx.redirect(`/t/${ctx.state.tenant.id}${path}?${new URLSearchParams(fields).toString()}`);
    });
  }
  return router;
}
