import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionFlow, LoadedInteraction } from '../interaction/interaction-flow.js';
import type { PendingLogin } from '../interaction/interaction-state.js';
import { ACR } from '../interaction/interaction-types.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { requestOrigin } from '../http/request-context.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { t } from '../http/pages/strings.js';
import type { MfaService, SecondFactorCheck } from './mfa-service.js';
import { verifyInteractionAssertion, type WebAuthnService } from './webauthn-service.js';
import type { Services } from '../services.js';
import { interactionPageCsp } from '../interaction/page-security.js';
import { passkeyBlock, renderContinuePage, renderEnrollPage, renderRecoveryCodesPage, renderVerifyPage } from './mfa-pages.js';

export function secondFactorMessage(result: Exclude<SecondFactorCheck, { ok: true }>, locale: Parameters<typeof t>[2]): string {
  switch (result.reason) {
    case 'replayed':
      return t('mfa.error.replayed', {}, locale);
    case 'locked_out':
      return t('mfa.error.locked_out', { minutes: Math.max(1, Math.ceil((result.retryAfterSeconds ?? 60) / 60)) }, locale);
    case 'throttled':
      return t('mfa.error.throttled', { seconds: result.retryAfterSeconds ?? 1 }, locale);
    default:
      return t('mfa.error.invalid_code', {}, locale);
  }
}

/**
 * The two-factor pages of a sign-in: verify (authenticator code or recovery code), and
 * enrollment for people who must have a factor and have none. They work on the interaction's
 * pending first factor; nothing is finished until the second one is right.
 */
export function createMfaInteractionRouter(services: Services, flow: InteractionFlow, mfa: MfaService, webauthn: WebAuthnService): Router {
  const router = new Router({ prefix: '/t/:tenant/interaction/:uid/mfa' });

  /** The verify page: a TOTP form when the person has an authenticator, a passkey button when a passkey. */
  async function verifyPage(ctx: Context, it: LoadedInteraction, pending: PendingLogin, recovery: boolean, error?: string) {
    const user = await userOf(it, pending);
    const factors = await mfa.confirmedFactors(it.runtime.store, user.id);
    let passkey;
    if (!recovery && factors.some((f) => f.type === 'webauthn')) {
      const options = await webauthn.authenticationOptions(it.runtime.tenant, it.runtime.store, user);
      it.state.webauthnChallenge = options.challenge;
      await it.states.save(it.details.uid, it.state);
      passkey = passkeyBlock(it.pc, { mode: 'authenticate', options, action: `${it.base}/mfa/passkey`, csrf: it.state.csrf, label: t('passkey.use', {}, it.pc.locale) });
      ctx.set('Content-Security-Policy', interactionPageCsp(it.details.params.redirect_uri as string | undefined, { scripts: true }));
    }
    ctx.type = 'html';
    ctx.body = renderVerifyPage(it.pc, {
      action: `${it.base}/mfa`,
      csrf: it.state.csrf,
      recovery,
      switchHref: `${it.base}/mfa${recovery ? '' : '?method=recovery'}`,
      totp: factors.some((f) => f.type === 'totp'),
      passkey,
      error,
    });
  }

  async function load(ctx: Context): Promise<{ it: LoadedInteraction; pending: PendingLogin }> {
    const it = await flow.load(ctx);
    const pending = it.state.pendingLogin;
    if (!pending) throw new GatehouseError('mfa.no_first_factor', t('interaction.expired.body', {}, it.pc.locale), { status: 400 });
    return { it, pending };
  }

  async function form(ctx: Context, it: LoadedInteraction): Promise<Record<string, string>> {
    const fields = await readForm(ctx);
    if (!constantTimeEqual(fields.csrf ?? '', it.state.csrf)) throw new GatehouseError('interaction.csrf_failed', t('signin.error.csrf', {}, it.pc.locale), { status: 403 });
    return fields;
  }

  const userOf = async (it: LoadedInteraction, pending: PendingLogin) => {
    const user = await it.runtime.store.users.get(pending.accountId);
    if (!user) throw new GatehouseError('mfa.user_missing', 'the user of this sign-in no longer exists', { status: 400 });
    return user;
  };

  const finish = (ctx: Context, it: LoadedInteraction, pending: PendingLogin, method: 'otp' | 'recovery_code') =>
    flow.finishLogin(ctx, it, { ...pending, amr: [...new Set([...pending.amr, ...(method === 'otp' ? ['otp'] : []), 'mfa'])], acr: ACR.multiFactor });

  router.get('/', async (ctx) => {
    const { it, pending } = await load(ctx);
    await verifyPage(ctx, it, pending, ctx.query.method === 'recovery');
  });

  router.post('/passkey', async (ctx) => {
    const { it, pending } = await load(ctx);
    const fields = await form(ctx, it);
    const user = await userOf(it, pending);
    const result = await verifyInteractionAssertion(webauthn, it, fields.response, user);
    await services.audit.record(it.runtime.store, {
      actor: { type: 'user', id: user.id },
      origin: requestOrigin(ctx),
      action: result.ok ? 'mfa.verified' : 'mfa.failed',
      target: { type: 'user', id: user.id },
      outcome: result.ok ? 'success' : 'failure',
      ...(result.ok ? { details: { method: 'webauthn', factor: result.credentialId } } : { reason: result.reason }),
    });
    if (!result.ok) {
      ctx.status = 401;
      return verifyPage(ctx, it, pending, false, t('passkey.error', {}, it.pc.locale));
    }
    await flow.finishLogin(ctx, it, { ...pending, amr: [...new Set([...pending.amr, 'hwk', 'mfa'])], acr: ACR.multiFactor });
  });

  router.post('/', async (ctx) => {
    const { it, pending } = await load(ctx);
    const fields = await form(ctx, it);
    const user = await userOf(it, pending);
    const recovery = fields.recovery_code !== undefined;
    const result = await mfa.check(it.runtime.tenant, it.runtime.store, user, recovery ? { recoveryCode: fields.recovery_code } : { code: fields.code ?? '' }, requestOrigin(ctx));
    if (!result.ok) {
      ctx.status = result.reason === 'locked_out' || result.reason === 'throttled' ? 429 : 401;
      return verifyPage(ctx, it, pending, recovery, secondFactorMessage(result, it.pc.locale));
    }
    if (result.method === 'recovery_code') {
      // Tell the person how many codes are left before they continue to the app.
      it.state.pendingLogin = { ...pending, amr: [...new Set([...pending.amr, 'mfa'])], acr: ACR.multiFactor };
      it.state.recoveryNotice = t('mfa.recovery_used', { count: result.remainingRecoveryCodes ?? 0 }, it.pc.locale);
      await it.states.save(it.details.uid, it.state);
      ctx.type = 'html';
      ctx.body = renderContinuePage(it.pc, { action: `${it.base}/mfa/continue`, csrf: it.state.csrf, notice: String(it.state.recoveryNotice) });
      return;
    }
    await finish(ctx, it, pending, 'otp');
  });

  router.post('/continue', async (ctx) => {
    const { it, pending } = await load(ctx);
    await form(ctx, it);
    if (pending.acr !== ACR.multiFactor) throw new GatehouseError('mfa.not_verified', 'the second step is not done', { status: 400 });
    await flow.finishLogin(ctx, it, pending);
  });

  router.get('/enroll', async (ctx) => {
    const { it, pending } = await load(ctx);
    const user = await userOf(it, pending);
    const enrollment = await mfa.totpEnrollment(it.runtime.tenant, it.runtime.store, user);
    ctx.type = 'html';
    ctx.body = renderEnrollPage(it.pc, { action: `${it.base}/mfa/enroll`, csrf: it.state.csrf, enrollment, required: true });
  });

  router.post('/enroll', async (ctx) => {
    const { it, pending } = await load(ctx);
    const fields = await form(ctx, it);
    const user = await userOf(it, pending);
    if (!(await mfa.confirmTotp(it.runtime.tenant, it.runtime.store, user, fields.code ?? '', requestOrigin(ctx)))) {
      ctx.status = 401;
      const enrollment = await mfa.totpEnrollment(it.runtime.tenant, it.runtime.store, user);
      ctx.type = 'html';
      ctx.body = renderEnrollPage(it.pc, { action: `${it.base}/mfa/enroll`, csrf: it.state.csrf, enrollment, required: true, error: t('mfa.error.invalid_code', {}, it.pc.locale) });
      return;
    }
    const codes = await mfa.newRecoveryCodes(it.runtime.store, user, { type: 'user', id: user.id }, requestOrigin(ctx));
    it.state.pendingLogin = { ...pending, amr: [...new Set([...pending.amr, 'otp', 'mfa'])], acr: ACR.multiFactor };
    await it.states.save(it.details.uid, it.state);
    ctx.type = 'html';
    ctx.body = renderRecoveryCodesPage(it.pc, { action: `${it.base}/mfa/continue`, csrf: it.state.csrf, codes });
  });

  return router;
}
