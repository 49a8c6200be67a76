import Router from '@koa/router';
import type { Services } from '../services.js';
import type { TenantPool } from '../tenants/tenant-pool.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { requestOrigin } from '../http/request-context.js';
import { pageContextFor } from '../http/pages/page-context.js';
import { interactionPageCsp } from '../interaction/page-security.js';
import { ACCOUNT_CLIENT_ID } from './account-client.js';
import { AccountSessions } from './account-session.js';
import { endSession } from '../interaction/session-termination.js';
import { ACR } from '../interaction/interaction-types.js';
import { renderAccountPage, type AccountAppView, type AccountSessionView } from './account-page.js';

interface SessionPayload {
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
  const sessions = new AccountSessions(services, pool);

  router.get('/', async (ctx) => {
    const account = await sessions.current(ctx);
    if (!account) return sessions.startSignIn(ctx);
    const { runtime, sessionId, user } = account;
    const store = runtime.store;
    const accountId = user.id;
    const names = new Map<string, string>();
    const nameOf = async (clientId: string) => {
      if (!names.has(clientId)) names.set(clientId, (await runtime.provider.Client.find(clientId))?.clientName ?? clientId);
      return names.get(clientId)!;
    };
    const sessionViews: AccountSessionView[] = [];
    for (const { id, payload } of await store.oidc.listByAccount('Session', accountId)) {
      const p = payload as SessionPayload;
      const clientIds = Object.keys(p.authorizations ?? {}).filter((c) => c !== ACCOUNT_CLIENT_ID);
      sessionViews.push({ id, current: id === sessionId, startedAt: p.loginTs ?? 0, apps: await Promise.all(clientIds.map(nameOf)) });
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
    const groups = (await store.groups.effectiveGroupsOfUser(user.id)).map((g) => g.name);
    const factors = await services.mfa.confirmedFactors(store, user.id);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', interactionPageCsp(undefined));
    ctx.type = 'html';
    ctx.body = renderAccountPage(pageContextFor(runtime.tenant), {
      base: account.base,
      csrf: account.csrf,
      user,
      groups,
      sessions: sessionViews,
      apps: [...byClient.values()],
      mfa: {
        enabled: runtime.tenant.settings.mfa.policy !== 'off',
        factors: factors.map((f) => ({ id: f.id, type: f.type, createdAt: f.createdAt })),
        canAddPasskey: factors.length === 0 || account.acr === ACR.multiFactor,
        recoveryCodesLeft: await store.mfa.remainingRecoveryCodes(user.id),
        notice: typeof ctx.query.notice === 'string' ? ctx.query.notice : undefined,
      },
      signOutUrl: `/t/${runtime.tenant.id}/session/end`,
    });
  });

  router.get('/callback', (ctx) => {
    ctx.redirect(`/t/${ctx.state.tenant.id}/account`);
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const { account } = await sessions.requireForm(ctx);
    const store = account.runtime.store;
    const target = (await store.oidc.listByAccount('Session', account.user.id)).find((s) => s.id === ctx.params.id);
    if (!target) throw new GatehouseError('account.session_not_found', 'no such session of yours', { status: 404 });
    await endSession(account.runtime, account.user.id, target);
    await services.audit.record(store, {
      actor: { type: 'user', id: account.user.id },
      origin: requestOrigin(ctx),
      action: 'session.ended',
      target: { type: 'session', id: target.id },
      outcome: 'success',
      details: { by: 'account_page', current: target.id === account.sessionId },
    });
    ctx.status = 303;
    ctx.redirect(account.base);
  });

  router.post('/apps/:clientId/revoke', async (ctx) => {
    const { account } = await sessions.requireForm(ctx);
    const store = account.runtime.store;
    const grants = (await store.oidc.listByAccount('Grant', account.user.id)).filter((g) => (g.payload as { clientId?: string }).clientId === ctx.params.clientId);
    if (grants.length === 0) throw new GatehouseError('account.app_not_found', 'no such app access of yours', { status: 404 });
    // Every grant of the app, and every token issued under them.
    for (const grant of grants) {
      await store.oidc.revokeByGrantId(grant.id);
      await store.oidc.destroy('Grant', grant.id);
    }
    await services.audit.record(store, {
      actor: { type: 'user', id: account.user.id },
      origin: requestOrigin(ctx),
      action: 'consent.revoked',
      target: { type: 'client', id: ctx.params.clientId },
      outcome: 'success',
      details: { grants: grants.length },
    });
    ctx.status = 303;
    ctx.redirect(account.base);
  });

  return router;
}
