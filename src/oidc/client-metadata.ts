import type { AdapterPayload } from 'oidc-provider';
import type { ClientRecord } from '../store/repositories/client-repository.js';

/**
 * A Gatehouse app as oidc-provider client metadata. The stored secret digest stands in for
 * `client_secret`: the provider's secret comparison is replaced (provider-factory.ts) by one that
 * digests the presented secret first, so the plaintext is never stored. HMAC-based algorithms,
 * which would need the plaintext as a key, are disabled provider-wide.
 */
export function clientMetadata(client: ClientRecord, defaultSigningAlg: string): AdapterPayload {
  const s = client.settings;
  const responseTypes = s.grantTypes.includes('authorization_code') ? ['code'] : [];
  const scopes = new Set(s.scopes);
  if (s.grantTypes.includes('refresh_token')) scopes.add('offline_access');
  return {
    client_id: client.clientId,
    ...(client.name ? { client_name: client.name } : {}),
    ...(client.secretDigest ? { client_secret: client.secretDigest } : {}),
    token_endpoint_auth_method: s.tokenEndpointAuthMethod as AdapterPayload['token_endpoint_auth_method'],
    grant_types: s.grantTypes,
    response_types: responseTypes as AdapterPayload['response_types'],
    redirect_uris: s.redirectUris,
    post_logout_redirect_uris: s.postLogoutRedirectUris,
    ...(s.backchannelLogoutUri ? { backchannel_logout_uri: s.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    scope: [...scopes].join(' '),
    ...(s.jwks ? { jwks: s.jwks as AdapterPayload['jwks'] } : {}),
    ...(s.jwksUri ? { jwks_uri: s.jwksUri } : {}),
    id_token_signed_response_alg: defaultSigningAlg as AdapterPayload['id_token_signed_response_alg'],
    ...(client.type === 'public' ? { application_type: 'web' } : {}),
  };
}
