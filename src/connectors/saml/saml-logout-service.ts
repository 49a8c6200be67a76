import type { Profile } from '@node-saml/node-saml';
import type { Clock } from '../../clock.js';
import type { AuditLog, RequestOrigin } from '../../audit/audit-log.js';
import type { Store } from '../../store/store.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { RedirectInstruction } from '../connector.js';
import type { SamlConnectionService } from './saml-connection-service.js';
import type { SamlEndpoint } from './saml-connection-schema.js';
import type { LogoutRequestState } from './saml-state.js';
import type { SamlSessionTerminator } from './saml-seams.js';
import { runChecks } from './checks/check.js';
import { LOGOUT_CHECKS, type LogoutCheckContext } from './checks/logout-checks.js';
import { createNodeSaml } from './node-saml-client.js';
import { newMessageId } from './saml-redirect-connector.js';
import { signSamlMessage } from './xml-signing.js';
import { GatehouseError } from '../../errors/gatehouse-error.js';

/** How long we wait for the partner to answer a LogoutRequest we sent. */
const LOGOUT_REQUEST_TTL_MS = 10 * 60 * 1000;

export interface ReceivedLogoutMessage {
  binding: 'redirect' | 'post';
  /** SAMLRequest or SAMLResponse, as received. */
  samlRequest: string | undefined;
  samlResponse: string | undefined;
  relayState: string | undefined;
  /** The raw query string (Redirect binding). */
  rawQuery: string;
}

export type LogoutOutcome =
  /** A LogoutRequest from the partner was handled: answer it with this instruction (or a page when the partner has no SLO endpoint). */
  | { kind: 'answered'; instruction: RedirectInstruction | undefined; accounts: number }
  /** The partner answered our LogoutRequest: continue to where the logout started. */
  | { kind: 'completed'; returnTo: string; status: string | undefined };

/** Endpoints of one binding first: the binding the message came in with, when the partner offers it. */
function pickEndpoint(endpoints: SamlEndpoint[], preferred?: 'redirect' | 'post'): SamlEndpoint | undefined {
  return endpoints.find((e) => e.binding === preferred) ?? endpoints[0];
}

/**
 * Single logout ([SAMLProf] 4.4) for SAML connections: SP-initiated (Gatehouse's logout asks the
 * partner to end its session too) and IdP-initiated (the partner tells Gatehouse to end the
 * person's sessions), with the Redirect and POST bindings both ways.
 */
export class SamlLogoutService {
  constructor(
    private readonly deps: { store: Store; saml: SamlConnectionService; clock: Clock; audit: AuditLog; publicUrl: () => string },
  ) {}

  /**
   * SP-initiated: called by Gatehouse's logout after it ended the person's Gatehouse session.
   * Returns where to send the browser (a LogoutRequest to the partner), or undefined when the
   * person has no session at a partner that supports single logout. `returnTo` must be a
   * Gatehouse URL: the browser goes there once the partner answers.
   */
  async beginLogout(request: { tenantId: string; accountId: string; returnTo: string }): Promise<RedirectInstruction | undefined> {
    const store = this.deps.store.forTenant(request.tenantId);
    const returnTo = this.ownUrl(request.returnTo);
    const sessions = await store.saml.sessions.listByAccount(request.accountId);
    for (const session of sessions) {
      const connection = await store.saml.connections.get(session.connectionId);
      const endpoint = connection && pickEndpoint(connection.idp.slo, 'redirect');
      await store.saml.sessions.delete(session.id);
      if (!connection || !endpoint) continue;
      const messageId = newMessageId();
      const state: LogoutRequestState = { returnTo, accountId: request.accountId };
      await store.saml.messages.insert({ id: messageId, connectionId: connection.id, kind: 'logout', payload: state, expiresAt: this.deps.clock.now() + LOGOUT_REQUEST_TTL_MS });
      const saml = createNodeSaml({ ...this.samlInputs(store, connection), messageId, logoutUrl: endpoint.url });
      const profile: Profile = {
        issuer: connection.idp.entityId!,
        nameID: session.nameId,
        nameIDFormat: session.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
        ...(session.nameQualifier ? { nameQualifier: session.nameQualifier } : {}),
        ...(session.spNameQualifier ? { spNameQualifier: session.spNameQualifier } : {}),
        ...(session.sessionIndex ? { sessionIndex: session.sessionIndex } : {}),
      };
      await this.deps.audit.record(store, {
        actor: { type: 'user', id: request.accountId },
        action: 'saml.logout_requested',
        target: { type: 'saml_connection', id: connection.id },
        outcome: 'success',
        details: { binding: endpoint.binding },
      });
      if (endpoint.binding === 'redirect') return { type: 'redirect', url: await saml.getLogoutUrlAsync(profile, '', {}) };
      const xml = await saml._generateLogoutRequest(profile);
      return { type: 'post', url: endpoint.url, fields: { SAMLRequest: Buffer.from(this.signForPost(store, connection, xml)).toString('base64') } };
    }
    return undefined;
  }

  /** A logout message arriving at a connection's SLO endpoint. Throws SamlRefusedError when a check fails. */
  async receive(tenantId: string, connectionId: string, message: ReceivedLogoutMessage, terminator: SamlSessionTerminator, origin: RequestOrigin): Promise<LogoutOutcome> {
    const store = this.deps.store.forTenant(tenantId);
    const connection = await this.deps.saml.get(store, connectionId);
    const isRequest = message.samlRequest !== undefined;
    const ctx: LogoutCheckContext = {
      ...this.samlInputs(store, connection),
      store,
      now: this.deps.clock.now(),
      skewMs: connection.settings.clockSkewSeconds * 1000,
      binding: message.binding,
      expected: isRequest ? 'LogoutRequest' : 'LogoutResponse',
      encoded: isRequest ? message.samlRequest : message.samlResponse,
      relayState: message.relayState,
      rawQuery: message.rawQuery,
    };
    await runChecks(LOGOUT_CHECKS, ctx);
    if (!isRequest) {
      await this.deps.audit.record(store, {
        actor: { type: 'user', id: ctx.logoutRequest!.payload.accountId },
        origin,
        action: 'saml.logout_completed',
        target: { type: 'saml_connection', id: connectionId },
        outcome: 'success',
        details: { status: ctx.statusCode },
      });
      return { kind: 'completed', returnTo: ctx.logoutRequest!.payload.returnTo, status: ctx.statusCode };
    }

    // [SAMLCore] 3.7.3.2: end the sessions the request names (by NameID, narrowed by SessionIndex).
    const sessions = (await store.saml.sessions.findByNameId(connectionId, ctx.nameId!.value)).filter(
      (s) => ctx.sessionIndexes!.length === 0 || (s.sessionIndex !== undefined && ctx.sessionIndexes!.includes(s.sessionIndex)),
    );
    const accounts = [...new Set(sessions.map((s) => s.accountId))];
    let success = true;
    for (const accountId of accounts) {
      try {
        await terminator.endSessions({ tenantId, accountId, connectionId, origin });
      } catch {
        success = false;
      }
    }
    for (const session of sessions) await store.saml.sessions.delete(session.id);
    await this.deps.audit.record(store, {
      actor: { type: 'system', id: `saml:${connectionId}` },
      origin,
      action: 'saml.logout_received',
      target: { type: 'saml_connection', id: connectionId },
      outcome: success ? 'success' : 'failure',
      details: { accounts, sessions: sessions.length, binding: message.binding },
    });
    const requestId = ctx.root!.getAttribute('ID')!;
    return { kind: 'answered', instruction: await this.answer(store, connection, requestId, success, message.binding, message.relayState), accounts: accounts.length };
  }

  /** A LogoutResponse to the partner's SLO endpoint (its ResponseLocation when it has one). */
  private async answer(store: TenantStore, connection: SamlConnectionRecord, requestId: string, success: boolean, binding: 'redirect' | 'post', relayState: string | undefined): Promise<RedirectInstruction | undefined> {
    const endpoint = pickEndpoint(connection.idp.slo, binding);
    if (!endpoint) return undefined;
    const url = endpoint.responseUrl ?? endpoint.url;
    const saml = createNodeSaml({ ...this.samlInputs(store, connection), logoutUrl: url });
    const request = { ID: requestId } as Profile;
    // [SAMLBind] 3.4.3 / 3.5.3: RelayState received with the request goes back unchanged.
    if (endpoint.binding === 'redirect') return { type: 'redirect', url: await saml.getLogoutResponseUrlAsync(request, relayState ?? '', {}, success) };
    const xml = saml._generateLogoutResponse(request, success);
    return { type: 'post', url, fields: { SAMLResponse: Buffer.from(this.signForPost(store, connection, xml)).toString('base64'), ...(relayState ? { RelayState: relayState } : {}) } };
  }

  /** [SAMLProf] 4.4.4.1 and 4.4.4.2: logout messages are signed whatever the connection says about AuthnRequests. */
  private samlInputs(store: TenantStore, connection: SamlConnectionRecord) {
    return { connection, keys: this.deps.saml.openKeys(store.tenantId, connection), urls: this.deps.saml.urls(store.tenantId, connection.id), sign: true };
  }

  private signForPost(store: TenantStore, connection: SamlConnectionRecord, xml: string): string {
    return signSamlMessage(xml, this.deps.saml.openKeys(store.tenantId, connection).signing, connection.spCertificates.signing);
  }

  /** Only Gatehouse's own URLs are continued to (no open redirect through the partner's answer). */
  private ownUrl(value: string): string {
    const base = new URL(this.deps.publicUrl());
    const url = new URL(value, base);
    if (url.origin !== base.origin) throw new GatehouseError('saml.invalid_return_to', 'returnTo must be a Gatehouse URL', { status: 400 });
    return url.toString();
  }
}
