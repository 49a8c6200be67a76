import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import type { Services } from '../services.js';
import type { TenantPool, TenantRuntime } from '../tenants/tenant-pool.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { ExternalIdentity } from '../connectors/connector.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { requestOrigin } from '../http/request-context.js';
import { pageContextFor, type PageContext } from '../http/pages/page-context.js';
import { t } from '../http/pages/strings.js';
import { linkExternalIdentity } from '../directory/identity-linker.js';
import { InteractionStateStore, type InteractionState, type PendingLogin } from './interaction-state.js';
import type { SecondFactorStep } from './second-factor.js';
import { ACR, type InteractionDetails } from './interaction-types.js';
import { renderConsentPage, renderIdentifierPage, renderPasswordPage, renderSelectAccountPage } from './pages.js';
import { interactionPageCsp } from './page-security.js';

/** One request's view of a pending interaction. */
export interface LoadedInteraction {
  runtime: TenantRuntime;
  details: InteractionDetails;
  state: InteractionState;
  states: InteractionStateStore;
  pc: PageContext;
  clientName: string;
  /** Path of the interaction's pages: `/t/<tenant>/interaction/<uid>`. */
  base: string;
}

const SCOPE_STRINGS = ['openid', 'profile', 'email', 'phone', 'address', 'groups', 'roles', 'offline_access'] as const;

export interface InteractionFlowDeps {
  services: Services;
  pool: TenantPool;
  registry: ConnectorRegistry;
  secondFactor: SecondFactorStep;
}

/**
 * The steps of a sign-in that every way of signing in shares: load the pending interaction,
 * show the page its prompt needs, and once a first factor succeeded (a password here, a partner's
 * response at its own route), run the second-factor step and hand the result to oidc-provider.
 */
export class InteractionFlow {
  constructor(private readonly deps: InteractionFlowDeps) {}

  /** The interaction of this browser (oidc-provider's interaction cookie). */
  async load(ctx: Context): Promise<LoadedInteraction> {
    const runtime = await this.deps.pool.runtimeFor(ctx.state.tenant);
    let details: InteractionDetails;
    try {
      details = await runtime.provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw expired();
      throw error;
    }
    if (ctx.params.uid !== undefined && details.uid !== ctx.params.uid) throw expired();
    return this.prepare(ctx, runtime, details);
  }

  /**
   * An interaction by its uid, for callbacks that arrive without the interaction cookie (a
   * partner's POST to our ACS). The caller must have bound the uid to its own request first
   * (the SAML RelayState record), so the uid alone grants nothing.
   */
  async loadByUid(ctx: Context, tenant: TenantRecord, uid: string): Promise<LoadedInteraction> {
    const runtime = await this.deps.pool.runtimeFor(tenant);
    const details = await runtime.provider.Interaction.find(uid);
    if (!details) throw expired();
    return this.prepare(ctx, runtime, details as InteractionDetails);
  }

  private async prepare(ctx: Context, runtime: TenantRuntime, details: InteractionDetails): Promise<LoadedInteraction> {
    const states = new InteractionStateStore(runtime.store, this.deps.services.config.tokens.interactionTtl);
    const state = await states.load(details.uid);
    const client = await runtime.provider.Client.find(details.params.client_id as string);
    const pc = pageContextFor(runtime.tenant, details.params.ui_locales as string | undefined);
    const partners = (await this.deps.registry.redirectConnectors(runtime.tenant, runtime.store)).flatMap((c) => c.browserTargets);
    ctx.set('Content-Security-Policy', interactionPageCsp(details.params.redirect_uri as string | undefined, { formTargets: partners }));
    ctx.set('Cache-Control', 'no-store');
    return {
      runtime,
      details,
      state,
      states,
      pc,
      clientName: client?.clientName ?? (details.params.client_id as string),
      base: `/t/${runtime.tenant.id}/interaction/${details.uid}`,
    };
  }

  /** Which page the interaction is on, from its prompt and what the person did so far. */
  async render(ctx: Context, it: LoadedInteraction, error?: string): Promise<void> {
    const { details, state, pc, base } = it;
    const prompt = details.prompt.name;
    ctx.type = 'html';
    if (prompt === 'login' || (prompt === 'select_account' && (state.forceLogin || !details.session?.accountId))) {
      if (state.username) {
        ctx.body = renderPasswordPage(pc, {
          action: `${base}/password`,
          switchAction: `${base}/switch`,
          cancelAction: `${base}/abort`,
          csrf: state.csrf,
          clientName: it.clientName,
          username: state.username,
          error,
        });
        return;
      }
      const connectors = await this.deps.registry.redirectConnectors(it.runtime.tenant, it.runtime.store);
      ctx.body = renderIdentifierPage(pc, {
        action: `${base}/identify`,
        cancelAction: `${base}/abort`,
        connectorAction: (id) => `${base}/connector/${encodeURIComponent(id)}`,
        csrf: state.csrf,
        clientName: it.clientName,
        error,
        connectors: connectors.map((c) => ({ id: c.id, name: c.displayName })),
        passkeyAction: it.runtime.tenant.settings.mfa.policy === 'off' ? undefined : `${base}/passkey`,
      });
      return;
    }
    const user = details.session?.accountId ? await it.runtime.store.users.get(details.session.accountId) : undefined;
    if (prompt === 'select_account') {
      ctx.body = renderSelectAccountPage(pc, { action: `${base}/select-account`, csrf: state.csrf, username: user?.username ?? '' });
      return;
    }
    if (prompt === 'consent') {
      ctx.body = renderConsentPage(pc, {
        action: `${base}/consent`,
        denyAction: `${base}/abort`,
        csrf: state.csrf,
        clientName: it.clientName,
        username: user?.username ?? '',
        items: consentItems(it),
      });
      return;
    }
    throw new GatehouseError('interaction.unsupported_prompt', `unsupported prompt ${prompt}`, { status: 500, expose: false });
  }

  /** Stores the interaction's result and sends the browser back to oidc-provider. */
  async finishWith(ctx: Context, it: LoadedInteraction, result: Record<string, unknown>, merge = true): Promise<void> {
    const interaction = it.details;
    interaction.result = merge && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
    await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
    await it.states.clear(interaction.uid);
    ctx.status = 303;
    ctx.redirect(interaction.returnTo);
  }

  /** After any first factor: the second-factor step decides whether to finish now. */
  async completeFirstFactor(ctx: Context, it: LoadedInteraction, pending: PendingLogin): Promise<void> {
    const user = await it.runtime.store.users.get(pending.accountId);
    if (!user) throw new GatehouseError('interaction.user_missing', 'the signed-in user no longer exists', { status: 500, expose: false });
    it.state.pendingLogin = pending;
    it.state.username = it.state.username ?? user.username;
    await it.states.save(it.details.uid, it.state);
    const next = await this.deps.secondFactor.afterFirstFactor({ ctx, tenant: it.runtime.tenant, store: it.runtime.store, user, details: it.details, state: it.state, pending });
    if (next.next === 'redirect') {
      ctx.status = 303;
      ctx.redirect(next.location);
      return;
    }
    await this.finishLogin(ctx, it, next.pending);
  }

  /** Ends the login step with the authenticated account (and its amr/acr). */
  async finishLogin(ctx: Context, it: LoadedInteraction, pending: PendingLogin): Promise<void> {
    const result: Record<string, unknown> = {
      login: { accountId: pending.accountId, amr: pending.amr, acr: pending.acr, ts: pending.authTime, remember: true },
    };
    if (String(it.details.params.prompt ?? '').split(' ').includes('select_account')) result.select_account = {};
    await this.finishWith(ctx, it, result, false);
  }

  /**
   * Completes a sign-in whose first factor happened elsewhere (a partner's response, already
   * checked, its user linked into the tenant directory): audited, then the flow continues as
   * after a password (second factor when policy asks, then consent).
   */
  async completeLinkedSignIn(ctx: Context, it: LoadedInteraction, user: UserRecord, identity: ExternalIdentity, connectorId: string, created = false): Promise<void> {
    const store = it.runtime.store;
    const origin = requestOrigin(ctx);
    if (user.status !== 'active') {
      await this.deps.services.audit.record(store, {
        actor: { type: 'user', id: user.id },
        origin,
        action: 'signin.failed',
        target: { type: 'user', id: user.id },
        outcome: 'failure',
        reason: 'account_disabled',
        details: { connector: connectorId, detail: 'disabled in Gatehouse' },
      });
      throw new GatehouseError('signin.account_disabled', t('signin.error.account_disabled'), { status: 403 });
    }
    await this.deps.services.audit.record(store, {
      actor: { type: 'user', id: user.id },
      origin,
      action: 'signin.succeeded',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { username: user.username, connector: connectorId, amr: identity.authentication.amr, created, classRef: identity.authentication.classRef },
    });
    it.state.username = user.username;
    await this.completeFirstFactor(ctx, it, {
      accountId: user.id,
      amr: identity.authentication.amr,
      acr: identity.authentication.multiFactor ? ACR.multiFactor : ACR.singleFactor,
      source: identity.source,
      authTime: Math.floor(this.deps.services.clock.now() / 1000),
      classRef: identity.authentication.classRef,
      multiFactor: identity.authentication.multiFactor,
    });
  }

  /** Links an identity from a connector into the tenant directory, then completes as above. */
  async completeExternalSignIn(ctx: Context, it: LoadedInteraction, identity: ExternalIdentity, connectorId: string): Promise<void> {
    const { user, created } = await linkExternalIdentity(it.runtime.store, identity);
    await this.completeLinkedSignIn(ctx, it, user, identity, connectorId, created);
  }
}

function expired(): GatehouseError {
  return new GatehouseError('interaction.expired', t('interaction.expired.body'), { status: 400 });
}

function consentItems(it: LoadedInteraction): string[] {
  const locale = it.pc.locale;
  const missing = it.details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  const items: string[] = [];
  for (const scope of missing.missingOIDCScope ?? []) {
    if ((SCOPE_STRINGS as readonly string[]).includes(scope)) items.push(t(`consent.scope.${scope as (typeof SCOPE_STRINGS)[number]}`, {}, locale));
  }
  if (missing.missingOIDCClaims?.length) items.push(t('consent.claims', { claims: missing.missingOIDCClaims.join(', ') }, locale));
  for (const [api, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    items.push(t('consent.scope.api', { api, scopes: scopes.join(', ') }, locale));
  }
  return items;
}
