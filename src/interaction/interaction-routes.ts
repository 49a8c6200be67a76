import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { requestOrigin } from '../http/request-context.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { t } from '../http/pages/strings.js';
import type { PendingLogin } from './interaction-state.js';
import type { SignInService, SignInFailure } from './sign-in-service.js';
import { ACR, isStepUpOnly } from './interaction-types.js';
import { grantMissing } from './consent-grants.js';
import type { InteractionFlow, LoadedInteraction } from './interaction-flow.js';
import { startRedirectConnector } from './external-sign-in.js';
import { resumePartnerInitiated } from './partner-sign-in.js';

export interface InteractionRouteDeps {
  services: Services;
  registry: ConnectorRegistry;
  signIn: SignInService;
  flow: InteractionFlow;
}

/**
 * The sign-in pages' routes: identifier first (so a partner's people are sent to their partner
 * before typing a password here), then the password, then (when policy asks) a second factor,
 * then consent. Every POST carries the interaction's CSRF token.
 */
export function createInteractionRouter(deps: InteractionRouteDeps): Router {
  const { services, registry, signIn, flow } = deps;
  const router = new Router({ prefix: '/t/:tenant/interaction/:uid' });

  /** Reads the form and checks its CSRF token; a missing or stale token re-renders the page. */
  async function form(ctx: Context, it: LoadedInteraction): Promise<Record<string, string> | undefined> {
    const fields = await readForm(ctx);
    if (!constantTimeEqual(fields.csrf ?? '', it.state.csrf)) {
      await services.audit.record(it.runtime.store, {
        actor: { type: 'anonymous' },
        origin: requestOrigin(ctx),
        action: 'interaction.csrf_failed',
        target: { type: 'interaction', id: it.details.uid },
        outcome: 'failure',
        reason: fields.csrf ? 'csrf_mismatch' : 'csrf_missing',
      });
      ctx.status = 403;
      await flow.render(ctx, it, t('signin.error.csrf', {}, it.pc.locale));
      return undefined;
    }
    return fields;
  }

  const failureMessage = (it: LoadedInteraction, reason: SignInFailure, retryAfterSeconds?: number) => {
    const locale = it.pc.locale;
    switch (reason) {
      case 'locked_out':
        return t('signin.error.locked_out', { minutes: Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60)) }, locale);
      case 'throttled':
        return t('signin.error.throttled', { seconds: retryAfterSeconds ?? 1 }, locale);
      case 'empty_password':
        return t('signin.error.empty_password', {}, locale);
      case 'account_disabled':
        return t('signin.error.account_disabled', {}, locale);
      case 'directory_unavailable':
        return t('signin.error.directory_unavailable', {}, locale);
      default:
        return t('signin.error.invalid_credentials', {}, locale);
    }
  };

  const statusFor = (reason: SignInFailure) =>
    reason === 'directory_unavailable' ? 503 : reason === 'locked_out' || reason === 'throttled' ? 429 : reason === 'empty_password' ? 400 : 401;

  const backToPage = (ctx: Context, it: LoadedInteraction) => {
    ctx.status = 303;
    ctx.redirect(it.base);
  };

  router.get('/', async (ctx) => {
    const it = await flow.load(ctx);
    if (await resumePartnerInitiated(ctx, it, flow, services)) return;
    const session = it.details.session;
    if (it.details.prompt.name === 'login' && session?.accountId && !it.state.forceLogin && isStepUpOnly(it.details.prompt.reasons)) {
      // Step-up inside an existing session: the first factor stands, the second is asked.
      await flow.completeFirstFactor(ctx, it, {
        accountId: session.accountId,
        amr: (session as { amr?: string[] }).amr ?? ['pwd'],
        acr: (session as { acr?: string }).acr ?? ACR.singleFactor,
        source: 'session',
        authTime: Math.floor(services.clock.now() / 1000),
      });
      return;
    }
    const hint = it.details.params.login_hint as string | undefined;
    if (hint && !it.state.username && !it.state.forceLogin && it.details.prompt.name === 'login') {
      // login_hint (OIDC Core 3.1.2.1): skip the identifier page, routed as if it had been typed.
      if (await startRedirectConnector(ctx, it, registry, services, { typed: hint })) return;
      it.state.username = hint.trim();
      await it.states.save(it.details.uid, it.state);
    }
    await flow.render(ctx, it);
  });

  router.post('/identify', async (ctx) => {
    const it = await flow.load(ctx);
    const fields = await form(ctx, it);
    if (!fields) return;
    const username = (fields.username ?? '').trim();
    if (!username) {
      ctx.status = 400;
      return flow.render(ctx, it, t('signin.error.empty_username', {}, it.pc.locale));
    }
    // someone@partner.example goes straight to the partner that claims the domain.
    if (await startRedirectConnector(ctx, it, registry, services, { typed: username })) return;
    it.state.username = username;
    await it.states.save(it.details.uid, it.state);
    backToPage(ctx, it);
  });

  router.post('/switch', async (ctx) => {
    const it = await flow.load(ctx);
    if (!(await form(ctx, it))) return;
    it.state.username = undefined;
    it.state.forceLogin = true;
    await it.states.save(it.details.uid, it.state);
    backToPage(ctx, it);
  });

  router.post('/password', async (ctx) => {
    const it = await flow.load(ctx);
    const fields = await form(ctx, it);
    if (!fields) return;
    if (!it.state.username) return backToPage(ctx, it);
    const outcome = await signIn.withPassword(it.runtime.tenant, it.runtime.store, it.state.username, fields.password ?? '', requestOrigin(ctx));
    if (!outcome.ok) {
      ctx.status = statusFor(outcome.reason);
      if (outcome.retryAfterSeconds) ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      return flow.render(ctx, it, failureMessage(it, outcome.reason, outcome.retryAfterSeconds));
    }
    const pending: PendingLogin = {
      accountId: outcome.user.id,
      amr: outcome.identity.authentication.amr,
      acr: outcome.identity.authentication.multiFactor ? ACR.multiFactor : ACR.singleFactor,
      source: outcome.identity.source,
      authTime: Math.floor(services.clock.now() / 1000),
    };
    await flow.completeFirstFactor(ctx, it, pending);
  });

  router.post('/connector/:connector', async (ctx) => {
    const it = await flow.load(ctx);
    if (!(await form(ctx, it))) return;
    if (!(await startRedirectConnector(ctx, it, registry, services, { connectorId: ctx.params.connector }))) {
      throw new GatehouseError('interaction.unknown_connector', 'this sign-in option does not exist', { status: 404 });
    }
  });

  router.post('/select-account', async (ctx) => {
    const it = await flow.load(ctx);
    const fields = await form(ctx, it);
    if (!fields) return;
    if (fields.choice === 'other' || !it.details.session?.accountId) {
      it.state.forceLogin = true;
      it.state.username = undefined;
      await it.states.save(it.details.uid, it.state);
      return backToPage(ctx, it);
    }
    await flow.finishWith(ctx, it, { select_account: {} });
  });

  router.post('/consent', async (ctx) => {
    const it = await flow.load(ctx);
    if (!(await form(ctx, it))) return;
    if (it.details.prompt.name !== 'consent') throw new GatehouseError('interaction.wrong_step', 'this sign-in is not waiting for consent', { status: 400 });
    const grantId = await grantMissing(it.runtime.provider, it.details);
    await services.audit.record(it.runtime.store, {
      actor: { type: 'user', id: it.details.session?.accountId },
      origin: requestOrigin(ctx),
      action: 'consent.granted',
      target: { type: 'client', id: it.details.params.client_id as string },
      outcome: 'success',
      details: it.details.prompt.details as Record<string, unknown>,
    });
    await flow.finishWith(ctx, it, { consent: { grantId } });
  });

  router.post('/abort', async (ctx) => {
    const it = await flow.load(ctx);
    if (!(await form(ctx, it))) return;
    await flow.finishWith(ctx, it, { error: 'access_denied', error_description: 'the person cancelled the sign-in or denied access' }, false);
  });

  return router;
}
