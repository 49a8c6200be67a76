import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { InteractionDetails } from './interaction-types.js';

/**
 * Adds to a grant what the consent prompt found missing (scopes, claims, API scopes). Used when
 * a person clicks "Allow".
 */
export async function grantMissing(provider: Provider, details: InteractionDetails): Promise<string> {
  const { prompt, params, session, grantId } = details;
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
  if (!grant) throw new Error('grant of the interaction not found');
  const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

/**
 * oidc-provider's `loadExistingGrant`: the grant this session already holds for the app, and
 * for a first-party app (one the tenant marked as its own) a grant of everything the request
 * asks for, so that no consent page is shown (oidc-provider's skip-consent recipe).
 */
export async function loadGrant(ctx: KoaContextWithOIDC, isFirstParty: (clientId: string) => boolean): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const clientId = oidc.client!.clientId;
  const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? oidc.session!.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!isFirstParty(clientId)) return grant;
  grant ??= new oidc.provider.Grant({ clientId, accountId: oidc.session!.accountId! });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
    const scopes = [...oidc.requestParamScopes].filter((s) => resourceServer.scopes.has(s));
    if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
  }
  await grant.save();
  return grant;
}
