import type { TestGatehouse } from './gatehouse.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };

/**
 * Registers the tenant's directory API (`<issuer>/directory`) and a service app granted the given
 * scopes on it, as an administrator would, and returns a function that fetches a real
 * client-credentials access token from the tenant's token endpoint.
 */
export async function directoryClient(gh: TestGatehouse, tenantId: string, clientId: string, scopes: string[]): Promise<(scope?: string) => Promise<string>> {
  const store = gh.services.store.forTenant(tenantId);
  const audience = `${gh.issuer(tenantId)}/directory`;
  await gh.services.resources.upsert(store, { identifier: audience, scopes: ['scim:read', 'scim:write', 'directory:changes'] }, OPERATOR);
  const { secret } = await gh.services.clients.create(store, { clientId, grantTypes: ['client_credentials'], resources: [{ resource: audience, scopes }] }, OPERATOR);
  return async (scope = scopes.join(' ')) => {
    const res = await fetch(`${gh.issuer(tenantId)}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience, scope }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    if (!body.access_token) throw new Error(`no token for ${clientId}@${tenantId}: ${JSON.stringify(body)}`);
    return body.access_token;
  };
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A SCIM client as provisioning clients send requests: application/scim+json, bearer token. */
export function scimClient(gh: TestGatehouse, tenantId: string, token: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse> => {
    const res = await fetch(`${gh.issuer(tenantId)}/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token()}`,
        accept: 'application/scim+json',
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}
