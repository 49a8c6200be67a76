import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { TenantPool } from '../tenants/tenant-pool.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { requestOrigin } from '../http/request-context.js';
import { pageContextFor } from '../http/pages/page-context.js';
import { t } from '../http/pages/strings.js';
import { interactionPageCsp } from '../interaction/page-security.js';
import { passkeyBlock, renderEnrollPage, renderPasskeyPage, renderRecoveryCodesPage } from '../mfa/mfa-pages.js';
import { ACR } from '../interaction/interaction-types.js';
import { AccountSessions, type AccountSession } from './account-session.js';

/** A fresh second factor was shown for this change; kept with the session for a few minutes. */
const INTENT_MODEL = 'GatehouseAccountMfaIntent';
const INTENT_TTL_SECONDS = 600;
interface MfaIntent {
  /** The factor that the new enrollment replaces. */
  replaces?: string | undefined;
}

/**
 * Self-service two-factor on the account page. Adding the first factor needs only the signed-in
 * session; anything that weakens or swaps existing factors (replace, remove, new recovery codes,
 * adding another) needs a fresh code from a current factor (or a recovery code) first.
 */
export function createAccountMfaRouter(services: Services, pool: TenantPool): Router {
  const router = new Router({ prefix: '/t/:tenant/account/mfa' });
  const sessions = new AccountSessions(services, pool);
  const mfa = services.mfa;

  const back = (ctx: Context, account: AccountSession, notice?: string) => {
    ctx.status = 303;
    ctx.redirect(`${account.base}${notice ? `?notice=${encodeURIComponent(notice)}` : ''}`);
  };

  async function freshFactor(ctx: Context, account: AccountSession, code: string | undefined): Promise<boolean> {
    const typed = (code ?? '').trim();
    const input = /^\d{6}$/.test(typed) ? { code: typed } : { recoveryCode: typed };
    const result = await mfa.check(account.runtime.tenant, account.runtime.store, account.user, input, requestOrigin(ctx));
    return result.ok;
  }

  const page = (ctx: Context, body: string) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', interactionPageCsp(undefined));
    ctx.type = 'html';
    ctx.body = body;
  };

  router.get('/enroll', async (ctx) => {
    const account = await sessions.current(ctx);
    if (!account) return sessions.startSignIn(ctx);
    const { runtime, user } = account;
    if (runtime.tenant.settings.mfa.policy === 'off') throw new GatehouseError('mfa.disabled', 'two-factor authentication is off for this organisation', { status: 403 });
    const hasFactors = (await mfa.confirmedFactors(runtime.store, user.id)).length > 0;
    if (hasFactors && !(await runtime.store.oidc.find(INTENT_MODEL, account.sessionId))) return back(ctx, account);
    const enrollment = await mfa.totpEnrollment(runtime.tenant, runtime.store, user);
    page(ctx, renderEnrollPage(pageContextFor(runtime.tenant), { action: `${account.base}/mfa/enroll`, csrf: account.csrf, enrollment }));
  });

  router.post('/enroll', async (ctx) => {
    const { account, fields } = await sessions.requireForm(ctx);
    const { runtime, user } = account;
    const intent = (await runtime.store.oidc.find(INTENT_MODEL, account.sessionId))?.payload as MfaIntent | undefined;
    const hadFactors = (await mfa.confirmedFactors(runtime.store, user.id)).length > 0;
    if (hadFactors && !intent) throw new GatehouseError('mfa.fresh_factor_required', 'confirm with a current code first', { status: 403 });
    const pc = pageContextFor(runtime.tenant);
    if (!(await mfa.confirmTotp(runtime.tenant, runtime.store, user, fields.code ?? '', requestOrigin(ctx), intent?.replaces))) {
      ctx.status = 401;
      const enrollment = await mfa.totpEnrollment(runtime.tenant, runtime.store, user);
      return page(ctx, renderEnrollPage(pc, { action: `${account.base}/mfa/enroll`, csrf: account.csrf, enrollment, error: t('mfa.error.invalid_code', {}, pc.locale) }));
    }
    await runtime.store.oidc.destroy(INTENT_MODEL, account.sessionId);
    if ((await runtime.store.mfa.remainingRecoveryCodes(user.id)) > 0) return back(ctx, account);
    const codes = await mfa.newRecoveryCodes(runtime.store, user, { type: 'user', id: user.id }, requestOrigin(ctx));
    page(ctx, renderRecoveryCodesPage(pc, { action: `${account.base}/mfa/done`, csrf: account.csrf, codes }));
  });

  router.post('/done', async (ctx) => {
    const { account } = await sessions.requireForm(ctx);
    back(ctx, account);
  });

  router.post('/:factorId/change', async (ctx) => {
    const { account, fields } = await sessions.requireForm(ctx);
    const pc = pageContextFor(account.runtime.tenant);
    if (!(await freshFactor(ctx, account, fields.code))) return back(ctx, account, t('account.mfa.wrong_code', {}, pc.locale));
    const factorId = ctx.params.factorId!;
    if (fields.action === 'replace') {
      await account.runtime.store.oidc.upsert(INTENT_MODEL, account.sessionId, { replaces: factorId } satisfies MfaIntent, INTENT_TTL_SECONDS);
      ctx.status = 303;
      return ctx.redirect(`${account.base}/mfa/enroll`);
    }
    if (!(await mfa.removeFactor(account.runtime.store, account.user, factorId, requestOrigin(ctx)))) {
      throw new GatehouseError('mfa.factor_not_found', 'no such factor of yours', { status: 404 });
    }
    back(ctx, account);
  });

  const PASSKEY_CHALLENGE = 'GatehouseAccountPasskeyChallenge';

  router.post('/passkey', async (ctx) => {
    const { account } = await sessions.requireForm(ctx);
    const { runtime, user } = account;
    const factors = await mfa.confirmedFactors(runtime.store, user.id);
    // Adding a way in needs a two-factor session, unless this is the person's first factor.
    if (factors.length > 0 && account.acr !== ACR.multiFactor) throw new GatehouseError('mfa.fresh_factor_required', 'sign in with your second factor first', { status: 403 });
    const options = await services.webauthn.registrationOptions(runtime.tenant, runtime.store, user);
    await runtime.store.oidc.upsert(PASSKEY_CHALLENGE, account.sessionId, { challenge: options.challenge }, INTENT_TTL_SECONDS);
    const pc = pageContextFor(runtime.tenant);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', interactionPageCsp(undefined, { scripts: true }));
    ctx.type = 'html';
    ctx.body = renderPasskeyPage(pc, {
      title: t('passkey.add', {}, pc.locale),
      intro: t('passkey.add_intro', { tenant: runtime.tenant.displayName }, pc.locale),
      block: passkeyBlock(pc, { mode: 'register', options, action: `${account.base}/mfa/passkey/finish`, csrf: account.csrf, label: t('passkey.create', {}, pc.locale) }),
      backHref: account.base,
    });
  });

  router.post('/passkey/finish', async (ctx) => {
    const { account, fields } = await sessions.requireForm(ctx);
    const { runtime, user } = account;
    const stored = await runtime.store.oidc.find(PASSKEY_CHALLENGE, account.sessionId);
    await runtime.store.oidc.destroy(PASSKEY_CHALLENGE, account.sessionId);
    let response;
    try {
      response = JSON.parse(fields.response ?? '');
    } catch {
      response = undefined;
    }
    const challenge = stored?.payload.challenge as string | undefined;
    const pc = pageContextFor(runtime.tenant);
    if (!challenge || !response || !(await services.webauthn.finishRegistration(runtime.tenant, runtime.store, user, response, challenge, requestOrigin(ctx)))) {
      return back(ctx, account, t('passkey.error', {}, pc.locale));
    }
    if ((await runtime.store.mfa.remainingRecoveryCodes(user.id)) > 0) return back(ctx, account);
    const codes = await mfa.newRecoveryCodes(runtime.store, user, { type: 'user', id: user.id }, requestOrigin(ctx));
    page(ctx, renderRecoveryCodesPage(pc, { action: `${account.base}/mfa/done`, csrf: account.csrf, codes }));
  });

  router.post('/recovery-codes', async (ctx) => {
    const { account, fields } = await sessions.requireForm(ctx);
    const pc = pageContextFor(account.runtime.tenant);
    if (!(await freshFactor(ctx, account, fields.code))) return back(ctx, account, t('account.mfa.wrong_code', {}, pc.locale));
    const codes = await mfa.newRecoveryCodes(account.runtime.store, account.user, { type: 'user', id: account.user.id }, requestOrigin(ctx));
    page(ctx, renderRecoveryCodesPage(pc, { action: `${account.base}/mfa/done`, csrf: account.csrf, codes }));
  });

  return router;
}
