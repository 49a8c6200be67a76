import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { TenantPool } from '../tenants/tenant-pool.js';
import type { OnSamlSignedIn, SamlSessionTerminator, SamlSignIn } from '../connectors/saml/saml-seams.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { requestOrigin } from '../http/request-context.js';
import type { InteractionFlow, LoadedInteraction } from './interaction-flow.js';
import { ACR } from './interaction-types.js';
import { endAllSessions } from './session-termination.js';

/** A partner's sign-in that arrived without an interaction (IdP-initiated), waiting for the app's request. */
const PREAUTH_MODEL = 'GatehousePreAuthentication';
export const PREAUTH_COOKIE = '_gh_preauth';
/** The app is expected to send its authorization request right away. */
const PREAUTH_TTL_SECONDS = 300;

interface PreAuthentication {
  accountId: string;
  clientId: string;
  amr: string[];
  multiFactor: boolean;
  source: string;
  classRef?: string | undefined;
}

/**
 * The sign-in flow's side of the SAML seams: a partner's accepted response continues the pending
 * interaction (second factor, consent, code); a partner's single logout ends the person's
 * sessions with back-channel logout to their apps.
 *
 * IdP-initiated sign-in (only when a connection allows it, with a default app): there is no
 * authorization request to answer, so the person is sent to the app's `initiate_login_uri`
 * (OIDC Core 4) with a short-lived, browser-bound pre-authentication; the app's own request then
 * finds it and completes without asking again. An app without an initiate login URI cannot be
 * opened this way.
 */
export function partnerSignInSeams(services: Services, pool: TenantPool, flow: InteractionFlow): { onSignedIn: OnSamlSignedIn; sessions: SamlSessionTerminator } {
  const onSignedIn: OnSamlSignedIn = async (ctx: Context, signIn: SamlSignIn) => {
    const tenant = ctx.state.tenant;
    const connector = `saml:${signIn.connectionId}`;
    if (signIn.interactionUid) {
      const it = await flow.loadByUid(ctx, tenant, signIn.interactionUid);
      await flow.completeLinkedSignIn(ctx, it, signIn.user, signIn.identity, connector);
      return;
    }
    const clientId = signIn.idpInitiated?.defaultApp;
    const client = clientId ? await services.store.forTenant(tenant.id).clients.get(clientId) : undefined;
    const target = client?.settings.initiateLoginUri;
    if (!client || !target) {
      throw new GatehouseError('saml.idp_initiated_no_app', 'the app this partner opens cannot be started from a partner (it has no initiate login URI)', { status: 400 });
    }
    const token = randomBytes(24).toString('base64url');
    const record: PreAuthentication = {
      accountId: signIn.user.id,
      clientId: client.clientId,
      amr: signIn.identity.authentication.amr,
      multiFactor: Boolean(signIn.identity.authentication.multiFactor),
      source: signIn.identity.source,
      classRef: signIn.identity.authentication.classRef,
    };
    await services.store.forTenant(tenant.id).oidc.upsert(PREAUTH_MODEL, token, record as unknown as Record<string, unknown>, PREAUTH_TTL_SECONDS);
    ctx.cookies.set(PREAUTH_COOKIE, token, { path: `/t/${tenant.id}/interaction`, httpOnly: true, sameSite: 'lax', secure: services.config.server.publicUrl.startsWith('https:'), maxAge: PREAUTH_TTL_SECONDS * 1000, signed: false, overwrite: true });
    await services.audit.record(services.store.forTenant(tenant.id), {
      actor: { type: 'user', id: signIn.user.id },
      origin: requestOrigin(ctx),
      action: 'signin.partner_initiated',
      target: { type: 'client', id: client.clientId },
      outcome: 'success',
      details: { connector },
    });
    const url = new URL(target);
    url.searchParams.set('iss', pool.issuerFor(tenant.id));
    ctx.status = 303;
    ctx.redirect(url.href);
  };

  const sessions: SamlSessionTerminator = {
    async endSessions({ tenantId, accountId }) {
      const tenant = await services.store.tenants.get(tenantId);
      if (!tenant) return;
      await endAllSessions(await pool.runtimeFor(tenant), accountId);
    },
  };

  return { onSignedIn, sessions };
}

/**
 * At the start of an interaction: a partner's IdP-initiated sign-in waiting in this browser for
 * this app completes the login step. Returns true when it took over the response.
 */
export async function resumePartnerInitiated(ctx: Context, it: LoadedInteraction, flow: InteractionFlow, services: Services): Promise<boolean> {
  const token = ctx.cookies.get(PREAUTH_COOKIE);
  if (!token || it.details.prompt.name !== 'login') return false;
  ctx.cookies.set(PREAUTH_COOKIE, null, { path: `/t/${it.runtime.tenant.id}/interaction` });
  const stored = await it.runtime.store.oidc.find(PREAUTH_MODEL, token);
  await it.runtime.store.oidc.destroy(PREAUTH_MODEL, token);
  const record = stored?.payload as unknown as PreAuthentication | undefined;
  if (!record || record.clientId !== it.details.params.client_id) return false;
  await flow.completeFirstFactor(ctx, it, {
    accountId: record.accountId,
    amr: record.amr,
    acr: record.multiFactor ? ACR.multiFactor : ACR.singleFactor,
    source: record.source,
    authTime: Math.floor(services.clock.now() / 1000),
    classRef: record.classRef,
    multiFactor: record.multiFactor,
  });
  return true;
}
