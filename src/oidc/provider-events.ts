import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEntry } from '../audit/audit-log.js';
import type { AuditSink } from '../audit/audit-buffer.js';
import type { Logger } from '../logging/logger.js';
import type { TenantStore } from '../store/tenant-store.js';
import { TOKEN_EXCHANGE_GRANT } from '../tokens/token-exchange-policy.js';

function origin(ctx: KoaContextWithOIDC) {
  return { clientIp: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.get('x-request-id') || undefined };
}

/**
 * Subscribes the audit log and the process log to one tenant provider's events: every token
 * issued to a client (and every refusal, with the OAuth error as reason) is an audit event;
 * server errors inside the provider are logged with their stack, never shown.
 */
export function observeProvider(provider: Provider, store: TenantStore, audit: AuditSink, logger: Logger): void {
  const record = (entry: AuditEntry) => {
    audit.record(store, entry).catch((error) => logger.error({ err: error, tenant: store.tenantId }, 'could not write audit event'));
  };

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as Record<string, unknown>;
    if (params.grant_type === TOKEN_EXCHANGE_GRANT) {
      // RFC 8693: who acted for whom, for which API, with which scopes and for how long.
      const token = ctx.oidc.entities.AccessToken;
      record({
        actor: { type: 'client', id: ctx.oidc.client?.clientId },
        origin: origin(ctx),
        action: 'token.exchanged',
        target: { type: 'user', id: token?.accountId },
        outcome: 'success',
        details: { grantType: params.grant_type, resource: token?.aud, scope: token?.scope, expiresIn: token?.expiration },
      });
      return;
    }
    record({
      actor: { type: 'client', id: ctx.oidc.client?.clientId },
      origin: origin(ctx),
      action: 'token.issued',
      target: { type: 'client', id: ctx.oidc.client?.clientId },
      outcome: 'success',
      details: { grantType: params.grant_type, scope: params.scope, resource: params.resource, account: ctx.oidc.session?.accountId ?? undefined },
    });
  });

  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error?: string; error_description?: string; error_detail?: string }) => {
    const params = (ctx.oidc?.params ?? {}) as Record<string, unknown>;
    record({
      actor: { type: ctx.oidc?.client ? 'client' : 'anonymous', id: ctx.oidc?.client?.clientId },
      origin: origin(ctx),
      action: 'token.refused',
      target: ctx.oidc?.client ? { type: 'client', id: ctx.oidc.client.clientId } : undefined,
      outcome: 'failure',
      reason: error.error ?? 'error',
      details: { grantType: params.grant_type, description: error.error_description, detail: error.error_detail },
    });
  });

  // RFC 7009 revocation. Access and client-credentials tokens are destroyed only by the revocation
  // endpoint; a grant ends when its refresh token (or a user's access token) is revoked, or when a
  // used refresh token is replayed. Token values never enter the log (an opaque token's jti is its value).
  const revokedToken = (token: { kind: string; clientId?: string | undefined }) =>
    record({ actor: { type: 'client', id: token.clientId }, action: 'token.revoked', target: { type: 'token', id: token.kind }, outcome: 'success' });
  provider.on('access_token.destroyed', revokedToken);
  provider.on('client_credentials.destroyed', revokedToken);
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    record({ actor: { type: 'client', id: ctx.oidc?.client?.clientId }, origin: origin(ctx), action: 'grant.revoked', target: { type: 'grant', id: grantId }, outcome: 'success' });
  });

  // A back-channel logout that did not reach the app: its session there stays open, so it is said
  // loudly. A private or loopback address is refused by the SSRF guard unless the installation
  // allows it (outbound.allowPrivateNetworks).
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, error: Error, client: { clientId: string; backchannelLogoutUri?: string }) => {
    logger.warn({ tenant: store.tenantId, client: client?.clientId, uri: client?.backchannelLogoutUri, reason: error.message }, 'back-channel logout failed');
    record({ actor: { type: 'system' }, action: 'logout.backchannel_failed', target: { type: 'client', id: client?.clientId }, outcome: 'failure', reason: error.message.slice(0, 200) });
  });

  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) => {
    logger.error({ err: error, tenant: store.tenantId }, 'oidc-provider server error');
  });
}
