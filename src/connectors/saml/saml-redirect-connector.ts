import { randomBytes } from 'node:crypto';
import type { ConnectorContext, RedirectConnector, RedirectInstruction } from '../connector.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { Clock } from '../../clock.js';
import type { SamlConnectionService } from './saml-connection-service.js';
import type { AuthnRequestState } from './saml-state.js';
import { createNodeSaml } from './node-saml-client.js';
import { randomId } from '../../crypto/secrets.js';
import { GatehouseError } from '../../errors/gatehouse-error.js';

/** An xs:ID (an NCName: it must not start with a digit), 160 random bits ([SAMLCore] 1.3.4). */
export const newMessageId = () => `_${randomBytes(20).toString('hex')}`;

/**
 * One SAML connection as a redirect connector: `begin()` sends the person to the partner with a
 * (signed) AuthnRequest. The request's ID and a random RelayState are stored with the pending
 * interaction before the request leaves, so the response can be matched to a request we really
 * sent, once, and the interaction is never taken from anything the browser brings back.
 */
export class SamlRedirectConnector implements RedirectConnector {
  readonly kind = 'redirect' as const;
  readonly id: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly browserTargets: string[];

  constructor(
    private readonly connection: SamlConnectionRecord,
    private readonly store: TenantStore,
    private readonly service: SamlConnectionService,
    private readonly clock: Clock,
    /** How long a pending AuthnRequest is accepted: the interaction's lifetime. */
    private readonly requestTtlSeconds: number,
  ) {
    this.id = connection.id;
    this.displayName = connection.displayName;
    this.domains = connection.settings.domains;
    this.browserTargets = connection.idp.sso.map((e) => e.url);
  }

  async begin(request: { interactionUid: string; loginHint?: string | undefined }, context: ConnectorContext): Promise<RedirectInstruction> {
    const connection = this.connection;
    const binding = connection.settings.authnRequestBinding ?? connection.idp.sso[0]?.binding;
    const endpoint = connection.idp.sso.find((e) => e.binding === binding);
    if (!endpoint) throw new GatehouseError('saml.connection_not_ready', `SAML connection "${connection.id}" has no ${binding ?? ''} SSO endpoint`, { status: 503, expose: true });
    const messageId = newMessageId();
    const relayState = randomId(24);
    const state: AuthnRequestState = { relayState, interactionUid: request.interactionUid };
    await this.store.saml.messages.insert({ id: messageId, connectionId: connection.id, kind: 'authn', payload: state, expiresAt: this.clock.now() + this.requestTtlSeconds * 1000 });
    const saml = createNodeSaml({
      connection,
      keys: this.service.openKeys(this.store.tenantId, connection),
      urls: this.service.urls(this.store.tenantId, connection.id),
      entryPoint: endpoint.url,
      messageId,
      postBinding: endpoint.binding === 'post',
    });
    context.logger.debug({ connection: connection.id, binding: endpoint.binding }, 'sending SAML AuthnRequest');
    if (endpoint.binding === 'redirect') {
      const hint = connection.settings.loginHintParameter && request.loginHint ? { [connection.settings.loginHintParameter]: request.loginHint } : {};
      return { type: 'redirect', url: await saml.getAuthorizeUrlAsync(relayState, undefined, { additionalParams: hint }) };
    }
    const message = await saml.getAuthorizeMessageAsync(relayState);
    return { type: 'post', url: endpoint.url, fields: { SAMLRequest: String(message.SAMLRequest), RelayState: relayState } };
  }
}
