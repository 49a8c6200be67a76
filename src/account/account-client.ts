import type { AdapterPayload } from 'oidc-provider';
import type { ClientRecord } from '../store/repositories/client-repository.js';

/**
 * The account page signs people in like any app of the tenant would: through the tenant's own
 * authorization endpoint, as this built-in, first-party, public client. It exists in every
 * tenant without being stored, and its only redirect URI is the account page's callback.
 */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

export function accountCallbackUrl(issuer: string): string {
  return `${issuer}/account/callback`;
}

export function accountClientRecord(issuer: string): ClientRecord {
  return {
    clientId: ACCOUNT_CLIENT_ID,
    name: 'Your account',
    type: 'public',
    secretDigest: undefined,
    settings: {
      grantTypes: ['authorization_code'],
      redirectUris: [accountCallbackUrl(issuer)],
      postLogoutRedirectUris: [],
      firstParty: true,
      scopes: ['openid', 'profile'],
      resources: [],
      tokenEndpointAuthMethod: 'none',
    },
    createdAt: 0,
    updatedAt: 0,
  };
}

export function isBuiltInClient(clientId: string): boolean {
  return clientId === ACCOUNT_CLIENT_ID;
}

export type { AdapterPayload };
