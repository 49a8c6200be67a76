import { createHmac, randomBytes, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { TenantPool, TenantRuntime } from '../tenants/tenant-pool.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { requestOrigin } from '../http/request-context.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { pageContextFor } from '../http/pages/page-context.js';
import { interactionPageCsp } from '../interaction/page-security.js';
import { ACCOUNT_CLIENT_ID, accountCallbackUrl } from './account-client.js';
import { renderAccountPage, type AccountAppView, type AccountSessionView } from './account-page.js';

interface SessionPayload {
  accountId?: string;
  loginTs?: number;
  authorizations?: Record<string, { sid?: string; grantId?: string }>;
}

/**
 * The account page: a signed-in person sees their profile, their sessions (and ends any of
 * them) and the apps they allowed (and removes any). It reads the tenant's single sign-on
 * session; without one it signs the person in through the tenant's own authorization endpoint,
 * as the built-in account client.
 */
export function createAccountRouter(services: Services, pool: TenantPool): Router {
  const router = new Router({ prefix: '/t/:tenant/account' });
  const csrfKey = (tenantId: string) => services.box.deriveKeys(`account-csrf|tenant:${tenantId}`)[0]!;
  const csrfFor = (tenantId: string, sessionId: string) => createHmac('sha256', csrfKey(tenantId)).update(sessionId).digest('base64url');

  async function signedIn(ctx: Context): Promise<{ runtime: TenantRuntime; sessionId: string; accountId: string } | undefined> {
    const runtime = await pool.runtimeFor(ctx.state.tenant);
    const session = await runtime.provider.Session.get(ctx as never);
    if (!session?.accountId) return undefined;
    return { runtime, sessionId: session.jti, accountId: session.accountId };
  }

  function startSignIn(ctx: Context): void {
    const issuer = pool.issuerFor(ctx.state.tenant.id);
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: accountCallbackUrl(issuer),
      state: randomBytes(16).toString('base64url'),
      // PKCE is required of every client; the account page only needs the session, not the code.
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    ctx.redirect(`/t/${ctx.state.tenant.id}/auth?${params}`);
  }

  async function requireForm(ctx: Context, tenantId: string, sessionId: string): Promise<void> {
    const fields = await readForm(ctx);
    if (!constantTimeEqual(fields.csrf ?? '', csrfFor(tenantId, sessionId))) {
      throw new GatehouseError('account.csrf_failed', 'this form expired; reload the page and try again', { status: 403 });
    }
  }

  router.get('/', async (ctx) => {
    const signed = await signedIn(ctx);
    if (!signed) return startSignIn(ctx);
    const { runtime, sessionId, accountId } = signed;
    const store = runtime.store;
    const user = await store.users.get(accountId);
    if (!user) return startSignIn(ctx);
    const names = new Map<string, string>();
    const nameOf = async (clientId: string) => {
      if (!names.has(clientId)) names.set(clientId, (await runtime.provider.Client.find(clientId))?.clientName ?? clientId);
      return names.get(clientId)!;
    };
    const sessions: AccountSessionView[] = [];
    for (const { id, payload } of await store.oidc.listByAccount('Session', accountId)) {
      const p = payload as SessionPayload;
      const clientIds = Object.keys(p.authorizations ?? {}).filter((c) => c !== ACCOUNT_CLIENT_ID);
      sessions.push({ id, current: id === sessionId, startedAt: p.loginTs ?? 0, apps: await Promise.all(clientIds.map(nameOf)) });
    }
    // One entry per app: each session keeps its own grant, so an app can hold several.
    const byClient = new Map<string, AccountAppView>();
    for (const { payload } of await store.oidc.listByAccount('Grant', accountId)) {
      const clientId = String((payload as { clientId?: string }).clientId ?? '');
      if (!clientId || clientId === ACCOUNT_CLIENT_ID) continue;
      const view = byClient.get(clientId) ?? { clientId, clientName: await nameOf(clientId), scopes: [] };
      const scopes = (payload as { openid?: { scope?: string } }).openid?.scope?.split(' ') ?? [];
      view.scopes = [...new Set([...view.scopes, ...scopes])];
      byClient.set(clientId, view);
    }
    const apps = [...byClient.values()];
    const groups = (await store.groups.effectiveGroupsOfUser(user.id)).map((g) => g.name);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', interactionPageCsp(undefined));
    ctx.type = 'html';
    ctx.body = renderAccountPage(pageContextFor(runtime.tenant), {
      base: `/t/${runtime.tenant.id}/account`,
      csrf: csrfFor(runtime.tenant.id, sessionId),
      user,
      groups,
      sessions,
      apps,
      signOutUrl: `/t/${runtime.tenant.id}/session/end`,
    });
  });

  router.get('/callback', (ctx) => {
    ctx.redirect(`/t/${ctx.state.tenant.id}/account`);
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const signed = await signedIn(ctx);
    if (!signed) throw new GatehouseError('account.signed_out', 'you are not signed in', { status: 401 });
    await requireForm(ctx, signed.runtime.tenant.id, signed.sessionId);
    const store = signed.runtime.store;
    const target = (await store.oidc.listByAccount('Session', signed.accountId)).find((s) => s.id === ctx.params.id);
    if (!target) throw new GatehouseError('account.session_not_found', 'no such session of yours', { status: 404 });
    // Tell the apps of that session (back-channel logout), then end it.
    const authorizations = (target.payload as SessionPayload).authorizations ?? {};
    await Promise.allSettled(
      Object.entries(authorizations).map(async ([clientId, { sid }]) => {
        const client = await signed.runtime.provider.Client.find(clientId);
        // oidc-provider's Client.backchannelLogout (what end_session itself calls); untyped in @types.
        const logout = (client as unknown as { backchannelLogout?: (sub: string, sid: string) => Promise<void> } | undefined)?.backchannelLogout;
        if (client?.backchannelLogoutUri && sid && logout) await logout.call(client, signed.accountId, sid);
      }),
    );
    await store.oidc.destroy('Session', target.id);
    await services.audit.record(store, {
      actor: { type: 'user', id: signed.accountId },
      origin: requestOrigin(ctx),
      action: 'session.ended',
      target: { type: 'session', id: target.id },
      outcome: 'success',
      details: { by: 'account_page', current: target.id === signed.sessionId },
    });
    ctx.status = 303;
    ctx.redirect(`/t/${signed.runtime.tenant.id}/account`);
  });

  router.post('/apps/:clientId/revoke', async (ctx) => {
    const signed = await signedIn(ctx);
    if (!signed) throw new GatehouseError('account.signed_out', 'you are not signed in', { status: 401 });
    await requireForm(ctx, signed.runtime.tenant.id, signed.sessionId);
    const store = signed.runtime.store;
    const grants = (await store.oidc.listByAccount('Grant', signed.accountId)).filter((g) => (g.payload as { clientId?: string }).clientId === ctx.params.clientId);
    if (grants.length === 0) throw new GatehouseError('account.app_not_found', 'no such app access of yours', { status: 404 });
    // Every grant of the app, and every token issued under them.
    for (const grant of grants) {
      await store.oidc.revokeByGrantId(grant.id);
      await store.oidc.destroy('Grant', grant.id);
    }
    await services.audit.record(store, {
      actor: { type: 'user', id: signed.accountId },
      origin: requestOrigin(ctx),
      action: 'consent.revoked',
      target: { type: 'client', id: ctx.params.clientId },
      outcome: 'success',
      details: { grants: grants.length },
    });
    ctx.status = 303;
    ctx.redirect(`/t/${signed.runtime.tenant.id}/account`);
  });

  return router;
}
