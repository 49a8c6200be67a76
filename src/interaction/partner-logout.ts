import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Services } from '../services.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { renderPostBindingPage, sendRedirectInstruction } from '../http/auto-post-page.js';

const MODEL = 'GatehousePartnerLogout';
const TTL_SECONDS = 600;

interface PendingLogout {
  accountId: string;
  /** oidc-provider's logout confirmation: where its form posts, and its anti-forgery value. */
  confirmAction: string;
  xsrf: string;
  /** Where the provider will send the browser afterwards (the app's validated post-logout URI). */
  postLogoutRedirectUri?: string | undefined;
}

/**
 * Logging out of an app also logs the person out at the SAML partner they signed in with
 * (SP-initiated single logout, [SAMLProf] 4.4): when the person confirms, Gatehouse first sends a
 * LogoutRequest to the partner; when the partner answers, the browser posts oidc-provider's own
 * logout confirmation, which ends the Gatehouse session, sends back-channel logout tokens and
 * returns to the app. Without a partner session the confirmation goes straight to the provider.
 */
export class PartnerLogout {
  constructor(private readonly services: Services) {}

  /** From the provider's logout page: a token for the partner step, or undefined when there is none. */
  async prepare(tenant: TenantRecord, ctx: KoaContextWithOIDC, providerForm: string): Promise<string | undefined> {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return undefined;
    const store = this.services.store.forTenant(tenant.id);
    if ((await store.saml.sessions.listByAccount(accountId)).length === 0) return undefined;
    const action = /action="([^"]+)"/.exec(providerForm)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(providerForm)?.[1];
    if (!action || !xsrf) return undefined;
    const token = randomBytes(24).toString('base64url');
    const pending: PendingLogout = {
      accountId,
      confirmAction: action.replace(/&amp;/g, '&'),
      xsrf,
      postLogoutRedirectUri: (ctx.oidc.params?.post_logout_redirect_uri as string | undefined) ?? undefined,
    };
    await store.oidc.upsert(MODEL, token, pending as unknown as Record<string, unknown>, TTL_SECONDS);
    return token;
  }

  router(): Router {
    const router = new Router({ prefix: '/t/:tenant/logout' });
    const load = async (tenantId: string, token: string | undefined) => {
      const found = token ? await this.services.store.forTenant(tenantId).oidc.find(MODEL, token) : undefined;
      if (!found) throw new GatehouseError('logout.expired', 'this sign-out took too long; sign out again from the app', { status: 400 });
      return found.payload as unknown as PendingLogout;
    };

    router.post('/partner', async (ctx) => {
      const tenantId = ctx.state.tenant.id;
      const { token } = await readForm(ctx);
      const pending = await load(tenantId, token);
      const finish = `${this.services.config.server.publicUrl}/t/${tenantId}/logout/finish?token=${encodeURIComponent(token!)}`;
      const instruction = await this.services.samlLogout.beginLogout({ tenantId, accountId: pending.accountId, returnTo: finish });
      if (instruction) return sendRedirectInstruction(ctx, instruction);
      ctx.status = 303;
      ctx.redirect(finish);
    });

    router.get('/finish', async (ctx) => {
      const tenantId = ctx.state.tenant.id;
      const token = typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
      const pending = await load(tenantId, token);
      await this.services.store.forTenant(tenantId).oidc.destroy(MODEL, token!);
      const page = renderPostBindingPage({ url: pending.confirmAction, fields: { xsrf: pending.xsrf, logout: 'yes' } }, pending.postLogoutRedirectUri ? [pending.postLogoutRedirectUri] : []);
      ctx.set('Content-Security-Policy', page.contentSecurityPolicy);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'html';
      ctx.body = page.html;
    });
    return router;
  }
}
