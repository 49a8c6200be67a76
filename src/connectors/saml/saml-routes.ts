import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Store } from '../../store/store.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Clock } from '../../clock.js';
import type { SamlConnectionService } from './saml-connection-service.js';
import type { SamlLogoutService, ReceivedLogoutMessage } from './saml-logout-service.js';
import type { OnSamlSignedIn, SamlSessionTerminator } from './saml-seams.js';
import type { CompletionState } from './saml-state.js';
import type { Services } from '../../services.js';
import { requestOrigin } from '../../http/request-context.js';
import { renderMessagePage } from '../../http/pages/layout.js';
import { t, type StringId } from '../../http/pages/strings.js';
import { GatehouseError, isGatehouseError, notFound } from '../../errors/gatehouse-error.js';
import { constantTimeEqual, randomId } from '../../crypto/secrets.js';
import { linkExternalIdentity } from '../../directory/identity-linker.js';
import { SAML_CONNECTION_ID_PATTERN } from './saml-connection-schema.js';
import { isSamlRefused } from './saml-errors.js';
import { validateSamlResponse } from './saml-response-validator.js';
import { mapSamlIdentity } from './saml-identity-mapper.js';
import { readUrlEncoded } from '../../http/form-body.js';
import { sendRedirectInstruction } from '../../http/auto-post-page.js';

/** A posted SAMLResponse of at most 256 KB, base64 (4/3) plus RelayState and form encoding. */
const MAX_FORM_BYTES = 400 * 1024;
/** The hop from the ACS to the continue route takes one redirect; five minutes is generous. */
const COMPLETION_TTL_MS = 5 * 60 * 1000;
const BINDING_COOKIE = 'gh_saml_continue';

export interface SamlRouterDeps {
  store: Store;
  saml: SamlConnectionService;
  logout: SamlLogoutService;
  audit: AuditLog;
  clock: Clock;
  /** How long a partner session is remembered for single logout when the partner gives no SessionNotOnOrAfter. */
  sessionTtlSeconds: number;
  /** Finishes the sign-in (the lead's interaction code; see saml-seams.ts). */
  onSignedIn: OnSamlSignedIn;
  /** Ends Gatehouse sessions when a partner signs a person out. */
  sessions: SamlSessionTerminator;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** A page with a title, a sentence and the request id as reference (failures and the signed-out page). */
function messagePage(ctx: Context, status: number, title: StringId, body: StringId): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderMessagePage(t(title), t(body), { reference: ctx.state.requestId });
}

/**
 * The SAML service provider endpoints of every connection, under the tenant prefix (they run
 * after tenant resolution: `ctx.state.tenant` is set):
 *
 *   GET       /t/:tenant/saml/:connection/metadata   Gatehouse's SP metadata for the partner
 *   POST      /t/:tenant/saml/:connection/acs        Assertion Consumer Service (HTTP-POST)
 *   GET       /t/:tenant/saml/:connection/continue   same-site hop, then `onSignedIn`
 *   GET|POST  /t/:tenant/saml/:connection/slo        Single Logout (HTTP-Redirect and HTTP-POST)
 *
 * Why the continue hop: the partner POSTs the response cross-site, and browsers do not send
 * SameSite=Lax cookies (oidc-provider's interaction cookie among them) with a cross-site POST.
 * The ACS validates, remembers the result for a few minutes and redirects (303) to a same-site
 * GET, where the cookies are present again. The result is bound to the browser by a cookie set
 * on the ACS response, and can be used once.
 */
export function createSamlRouter(deps: SamlRouterDeps): Router {
  const router = new Router();

  const connectionOf = async (ctx: Context) => {
    const id = ctx.params.connection ?? '';
    if (!SAML_CONNECTION_ID_PATTERN.test(id)) throw notFound('saml.not_found', 'no such SAML connection');
    const store = deps.store.forTenant(ctx.state.tenant.id);
    return { store, connection: await deps.saml.get(store, id) };
  };

  router.get('/t/:tenant/saml/:connection/metadata', async (ctx) => {
    const { connection } = await connectionOf(ctx);
    ctx.type = 'application/samlmetadata+xml';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = deps.saml.spMetadata(ctx.state.tenant.id, connection);
  });

  router.post('/t/:tenant/saml/:connection/acs', async (ctx) => {
    const { store, connection } = await connectionOf(ctx);
    const tenantId = ctx.state.tenant.id;
    const origin = requestOrigin(ctx);
    const now = deps.clock.now();
    try {
      const form = await readUrlEncoded(ctx, MAX_FORM_BYTES);
      const validated = await validateSamlResponse({
        connection,
        keys: deps.saml.openKeys(tenantId, connection),
        urls: deps.saml.urls(tenantId, connection.id),
        store,
        now,
        samlResponse: form.get('SAMLResponse') ?? undefined,
        relayState: form.get('RelayState') ?? undefined,
      });
      const identity = mapSamlIdentity(connection, validated);
      const { user, created, linked } = await linkExternalIdentity(store, identity, { provisioning: connection.settings.provisioning });
      if (user.status !== 'active') throw new GatehouseError('identity.account_disabled', `user ${user.id} is ${user.status}`, { status: 403 });
      await store.saml.sessions.insert({
        id: randomId(),
        connectionId: connection.id,
        accountId: user.id,
        nameId: validated.nameId.value,
        nameIdFormat: validated.nameId.format,
        nameQualifier: validated.nameId.nameQualifier,
        spNameQualifier: validated.nameId.spNameQualifier,
        sessionIndex: validated.sessionIndex,
        expiresAt: validated.sessionNotOnOrAfter ?? now + deps.sessionTtlSeconds * 1000,
      });
      const token = randomId(32);
      const browserBinding = randomId(32);
      const completion: CompletionState = {
        interactionUid: validated.interactionUid,
        idpInitiated: validated.unsolicited ? { defaultApp: connection.settings.defaultApp! } : undefined,
        identity,
        userId: user.id,
        browserBindingSha256: sha256(browserBinding),
      };
      await store.saml.messages.insert({ id: sha256(token), connectionId: connection.id, kind: 'completion', payload: completion, expiresAt: now + COMPLETION_TTL_MS });
      await deps.audit.record(store, {
        actor: { type: 'user', id: user.id },
        origin,
        action: 'saml.signin',
        target: { type: 'saml_connection', id: connection.id },
        outcome: 'success',
        details: {
          userCreated: created,
          linked: Boolean(linked),
          nameIdFormat: validated.nameId.format,
          classRef: identity.authentication.classRef,
          multiFactor: identity.authentication.multiFactor,
          signed: validated.signed,
          encrypted: validated.encrypted,
          idpInitiated: validated.unsolicited,
          assertionId: validated.assertionId,
        },
      });
      const urls = deps.saml.urls(tenantId, connection.id);
      ctx.cookies.set(BINDING_COOKIE, browserBinding, {
        path: new URL(urls.continue).pathname,
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        maxAge: COMPLETION_TTL_MS,
        signed: false,
        overwrite: true,
      });
      ctx.redirect(`${urls.continue}?c=${encodeURIComponent(token)}`);
      ctx.status = 303;
    } catch (error) {
      const refused = isSamlRefused(error);
      if (!refused && !(isGatehouseError(error) && (error.code.startsWith('identity.') || error.status < 500))) throw error;
      const e = error as GatehouseError;
      const details = refused ? { check: error.check, spec: error.spec, detail: error.detail } : { detail: e.message };
      ctx.state.log.warn({ tenant: tenantId, connection: connection.id, reason: e.code, ...details }, 'SAML response refused');
      await deps.audit.record(store, {
        actor: { type: 'anonymous' },
        origin,
        action: 'saml.signin',
        target: { type: 'saml_connection', id: connection.id },
        outcome: 'failure',
        reason: e.code,
        details,
      });
      if (e.code === 'identity.account_disabled') messagePage(ctx, 403, 'saml.failed.title', 'saml.account_disabled.body');
      else messagePage(ctx, e.status >= 400 && e.status < 500 ? e.status : 400, 'saml.failed.title', 'saml.failed.body');
    }
  });

  router.get('/t/:tenant/saml/:connection/continue', async (ctx) => {
    const { store, connection } = await connectionOf(ctx);
    const tenantId = ctx.state.tenant.id;
    const token = typeof ctx.query.c === 'string' ? ctx.query.c : '';
    const refuse = async (reason: string) => {
      await deps.audit.record(store, { actor: { type: 'anonymous' }, origin: requestOrigin(ctx), action: 'saml.signin', target: { type: 'saml_connection', id: connection.id }, outcome: 'failure', reason });
      ctx.state.log.warn({ tenant: tenantId, connection: connection.id, reason }, 'SAML sign-in continuation refused');
      messagePage(ctx, 400, 'saml.failed.title', 'saml.failed.body');
    };
    const record = token ? await store.saml.messages.findLive<CompletionState>(sha256(token), 'completion') : undefined;
    if (!record || record.connectionId !== connection.id || record.consumedAt !== undefined) return refuse('saml.completion_unknown');
    const cookie = ctx.cookies.get(BINDING_COOKIE, { signed: false });
    if (!cookie || !constantTimeEqual(sha256(cookie), record.payload.browserBindingSha256)) return refuse('saml.completion_other_browser');
    if (!(await store.saml.messages.consume(record.id, 'completion'))) return refuse('saml.completion_used');
    ctx.cookies.set(BINDING_COOKIE, null, { path: new URL(deps.saml.urls(tenantId, connection.id).continue).pathname });
    const user = await store.users.get(record.payload.userId);
    if (!user || user.status !== 'active') return refuse('identity.account_disabled');
    await deps.onSignedIn(ctx, {
      tenantId,
      connectionId: connection.id,
      interactionUid: record.payload.interactionUid,
      idpInitiated: record.payload.idpInitiated,
      identity: record.payload.identity,
      user,
    });
  });

  const slo = (binding: 'redirect' | 'post') => async (ctx: Context) => {
    const { store, connection } = await connectionOf(ctx);
    const tenantId = ctx.state.tenant.id;
    const origin = requestOrigin(ctx);
    let message: ReceivedLogoutMessage;
    if (binding === 'redirect') {
      const q = ctx.query;
      const one = (v: unknown) => (typeof v === 'string' ? v : undefined);
      message = { binding, samlRequest: one(q.SAMLRequest), samlResponse: one(q.SAMLResponse), relayState: one(q.RelayState), rawQuery: ctx.querystring };
    } else {
      const form = await readUrlEncoded(ctx, MAX_FORM_BYTES);
      message = { binding, samlRequest: form.get('SAMLRequest') ?? undefined, samlResponse: form.get('SAMLResponse') ?? undefined, relayState: form.get('RelayState') ?? undefined, rawQuery: '' };
    }
    if ((message.samlRequest === undefined) === (message.samlResponse === undefined)) {
      throw new GatehouseError('saml.logout_invalid', 'a logout message carries either SAMLRequest or SAMLResponse', { status: 400 });
    }
    try {
      const outcome = await deps.logout.receive(tenantId, connection.id, message, deps.sessions, origin);
      if (outcome.kind === 'completed') {
        ctx.status = 303;
        ctx.redirect(outcome.returnTo);
        return;
      }
      if (outcome.instruction) sendRedirectInstruction(ctx, outcome.instruction);
      else messagePage(ctx, 200, 'saml.signed_out.title', 'saml.signed_out.body');
    } catch (error) {
      if (!isSamlRefused(error)) throw error;
      ctx.state.log.warn({ tenant: tenantId, connection: connection.id, reason: error.code, check: error.check, detail: error.detail }, 'SAML logout message refused');
      await deps.audit.record(store, {
        actor: { type: 'anonymous' },
        origin,
        action: 'saml.logout_refused',
        target: { type: 'saml_connection', id: connection.id },
        outcome: 'failure',
        reason: error.code,
        details: { check: error.check, spec: error.spec, detail: error.detail },
      });
      messagePage(ctx, 400, 'saml.logout_failed.title', 'saml.logout_failed.body');
    }
  };
  router.get('/t/:tenant/saml/:connection/slo', slo('redirect'));
  router.post('/t/:tenant/saml/:connection/slo', slo('post'));

  return router;
}

/** The SAML router built from the services, with the two seams the sign-in flow supplies. */
export function samlRouterFor(services: Services, seams: { onSignedIn: OnSamlSignedIn; sessions: SamlSessionTerminator }): Router {
  return createSamlRouter({
    store: services.store,
    saml: services.saml,
    logout: services.samlLogout,
    audit: services.audit,
    clock: services.clock,
    sessionTtlSeconds: services.config.tokens.sessionTtl,
    ...seams,
  });
}
