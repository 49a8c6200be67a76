import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { InteractionFlow, LoadedInteraction } from '../interaction/interaction-flow.js';
import { ACR } from '../interaction/interaction-types.js';
import { interactionPageCsp } from '../interaction/page-security.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { requestOrigin } from '../http/request-context.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { t } from '../http/pages/strings.js';
import { passkeyBlock, renderPasskeyPage } from './mfa-pages.js';
import { verifyInteractionAssertion } from './webauthn-service.js';

/**
 * Passwordless sign-in with a passkey (a discoverable WebAuthn credential with user
 * verification): possession and a PIN or biometric on the device are two factors, so the
 * sign-in is two-factor (`amr` hwk, user, mfa) and no second step follows.
 */
export function createPasskeySignInRouter(services: Services, flow: InteractionFlow): Router {
  const router = new Router({ prefix: '/t/:tenant/interaction/:uid/passkey' });

  async function checkedForm(ctx: Context, it: LoadedInteraction): Promise<Record<string, string>> {
    const fields = await readForm(ctx);
    if (!constantTimeEqual(fields.csrf ?? '', it.state.csrf)) throw new GatehouseError('interaction.csrf_failed', t('signin.error.csrf', {}, it.pc.locale), { status: 403 });
    return fields;
  }

  async function passkeyPage(ctx: Context, it: LoadedInteraction, error?: string) {
    const options = await services.webauthn.authenticationOptions(it.runtime.tenant, it.runtime.store);
    it.state.webauthnChallenge = options.challenge;
    await it.states.save(it.details.uid, it.state);
    ctx.set('Content-Security-Policy', interactionPageCsp(it.details.params.redirect_uri as string | undefined, { scripts: true }));
    ctx.type = 'html';
    ctx.body = renderPasskeyPage(it.pc, {
      title: t('passkey.sign_in', {}, it.pc.locale),
      intro: error ?? t('passkey.sign_in_intro', {}, it.pc.locale),
      block: passkeyBlock(it.pc, { mode: 'authenticate', options, action: `${it.base}/passkey/verify`, csrf: it.state.csrf, label: t('passkey.sign_in', {}, it.pc.locale) }),
      backHref: it.base,
    });
  }

  router.post('/', async (ctx) => {
    const it = await flow.load(ctx);
    await checkedForm(ctx, it);
    await passkeyPage(ctx, it);
  });

  router.post('/verify', async (ctx) => {
    const it = await flow.load(ctx);
    const fields = await checkedForm(ctx, it);
    const result = await verifyInteractionAssertion(services.webauthn, it, fields.response);
    const origin = requestOrigin(ctx);
    if (!result.ok) {
      await services.audit.record(it.runtime.store, { actor: { type: 'anonymous' }, origin, action: 'signin.failed', outcome: 'failure', reason: `passkey_${result.reason}`, target: { type: 'credential', id: result.credentialIdPosted } });
      ctx.status = 401;
      return passkeyPage(ctx, it, t('passkey.error', {}, it.pc.locale));
    }
    const { user } = result;
    await services.audit.record(it.runtime.store, {
      actor: { type: 'user', id: user.id },
      origin,
      action: 'signin.succeeded',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { username: user.username, connector: 'passkey', userVerified: result.userVerified },
    });
    it.state.username = user.username;
    await flow.completeFirstFactor(ctx, it, {
      accountId: user.id,
      amr: result.userVerified ? ['hwk', 'user', 'mfa'] : ['hwk'],
      acr: result.userVerified ? ACR.multiFactor : ACR.singleFactor,
      source: 'passkey',
      authTime: Math.floor(services.clock.now() / 1000),
      multiFactor: result.userVerified,
    });
  });

  return router;
}
