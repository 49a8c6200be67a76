import Provider, { errors, type Configuration, type Grant, type KoaContextWithOIDC, type ResourceServer, type interactionPolicy } from 'oidc-provider';
import type { JWK } from 'jose';
import type { GatehouseConfig } from '../config/schema.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { ClientRecord } from '../store/repositories/client-repository.js';
import type { ResourceServerRecord } from '../store/repositories/resource-server-repository.js';
import { secretMatchesDigest } from '../crypto/secrets.js';
import { StoreOidcAdapter, type ClientMetadataLoader } from './store-adapter.js';
import { CLAIMS_BY_SCOPE, SUPPORTED_SCOPES, createFindAccount, userClaims } from './account.js';
import { registerTokenExchange, tokenExchangeClaims } from '../tokens/token-exchange-grant.js';
import { providerFetch } from '../clients/jwks-uri-policy.js';

/** Asymmetric algorithms only: HMAC would need client secrets in plaintext, and `none` is never allowed. */
const ASYMMETRIC_JWS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519'];

/**
 * What the interactive half (sign-in pages, consent, logout pages, two-factor) plugs into each
 * provider. Every hook receives the tenant it serves. Without hooks a provider has no pages
 * (enough for the token endpoint, discovery and JWKS).
 */
export interface ProviderHooks {
  interactionUrl(tenantId: string, uid: string): string;
  renderError?(tenant: TenantRecord, ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  logoutSource?(tenant: TenantRecord, ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource?(tenant: TenantRecord, ctx: KoaContextWithOIDC): Promise<void>;
  /** Grants for first-party apps are made without a consent page. */
  loadExistingGrant?(tenant: TenantRecord, ctx: KoaContextWithOIDC, isFirstParty: (clientId: string) => boolean): Promise<Grant | undefined>;
  /** The interaction policy (prompts and their checks), built anew for every provider. */
  interactionPolicy?(): interactionPolicy.Prompt[];
  /** `acr` values the tenant can satisfy (discovery's acr_values_supported). */
  acrValues?: string[];
  /** Called with each new provider, to subscribe to its events (audit). */
  onProvider?(provider: Provider, tenant: TenantRecord, store: TenantStore): void;
}

type ErrorOut = { error: string; error_description?: string; state?: string; scope?: string };

export interface ProviderInputs {
  tenant: TenantRecord;
  issuer: string;
  store: TenantStore;
  jwks: JWK[];
  cookieKeys: string[];
  secureCookies: boolean;
  config: GatehouseConfig;
  resources: Map<string, ResourceServerRecord>;
  /** A client of this tenant, from the runtime's cache. */
  clientRecord(clientId: string): ClientRecord | undefined;
  loadClient: ClientMetadataLoader;
  hooks: ProviderHooks;
}

const isClientCredentials = (ctx: KoaContextWithOIDC) => (ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type === 'client_credentials';

/**
 * One oidc-provider instance per tenant (oidc-provider keeps its keys, clients and state per
 * instance). Everything tenant-specific is closed over here: issuer, keys, store, cookies.
 */
export function createTenantProvider(inputs: ProviderInputs): Provider {
  const { tenant, config, store, hooks } = inputs;
  const tokens = config.tokens;
  const defaultAlg = config.keys.algorithms[0]!;
  const cookiePath = `/t/${tenant.id}`;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, path: cookiePath, secure: inputs.secureCookies, overwrite: true };

  const configuration: Configuration = {
    adapter: (name: string) => new StoreOidcAdapter(name, store, inputs.loadClient),
    jwks: { keys: inputs.jwks as any },
    findAccount: createFindAccount(store),
    claims: CLAIMS_BY_SCOPE,
    scopes: SUPPORTED_SCOPES,
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: defaultAlg,
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ASYMMETRIC_JWS,
      idTokenSigningAlgValues: ASYMMETRIC_JWS,
      userinfoSigningAlgValues: ASYMMETRIC_JWS,
      requestObjectSigningAlgValues: ASYMMETRIC_JWS,
      introspectionSigningAlgValues: ASYMMETRIC_JWS,
      authorizationSigningAlgValues: ASYMMETRIC_JWS,
    } as Configuration['enabledJWA'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clockTolerance: tokens.clockToleranceSeconds,
    fetch: providerFetch(config.clients.allowInsecureLoopbackJwksUri, config.outbound.allowPrivateNetworks),
    cookies: {
      keys: inputs.cookieKeys,
      names: { session: '_gh_session', interaction: '_gh_interaction', resume: '_gh_resume' },
      long: cookieOptions,
      short: cookieOptions,
    } as Configuration['cookies'],
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? tokens.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? tokens.clientCredentialsTtl,
      AuthorizationCode: tokens.authorizationCodeTtl,
      IdToken: tokens.idTokenTtl,
      Interaction: tokens.interactionTtl,
      Session: tokens.sessionTtl,
      Grant: tokens.refreshTokenTtl,
      RefreshToken: tokens.refreshTokenTtl,
    },
    interactions: {
      url: (_ctx, interaction) => hooks.interactionUrl(tenant.id, interaction.uid),
      ...(hooks.interactionPolicy ? { policy: hooks.interactionPolicy() } : {}),
    },
    ...(hooks.acrValues ? { acrValues: hooks.acrValues } : {}),
    ...(hooks.renderError ? { renderError: (ctx, out, error) => hooks.renderError!(tenant, ctx, out as ErrorOut, error) } : {}),
    ...(hooks.loadExistingGrant
      ? { loadExistingGrant: (ctx) => hooks.loadExistingGrant!(tenant, ctx, (id) => Boolean(inputs.clientRecord(id)?.settings.firstParty)) }
      : {}),
    rotateRefreshToken: true,
    // Apps get the profile claims their scopes allow in the ID token itself, not only from
    // userinfo (OIDC Core 5.4 allows both; most apps read the ID token).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      claimsParameter: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        ...(hooks.logoutSource ? { logoutSource: (ctx, form) => hooks.logoutSource!(tenant, ctx, form) } : {}),
        ...(hooks.postLogoutSuccessSource ? { postLogoutSuccessSource: (ctx) => hooks.postLogoutSuccessSource!(tenant, ctx) } : {}),
      },
      introspection: {
        enabled: true,
        // Only the tenant's own confidential clients may introspect, and only tokens issued to
        // a client of the same tenant (the token lookup itself is tenant-scoped).
        allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => !token.clientId || token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // A service asking for client credentials without naming an API gets its only API.
        // Never for sign-ins: an API as default audience breaks userinfo (STACK.md).
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (!isClientCredentials(ctx)) return undefined as unknown as string;
          const granted = inputs.clientRecord(client.clientId)?.settings.resources ?? [];
          return (granted.length === 1 ? granted[0]!.resource : undefined) as unknown as string;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client): Promise<ResourceServer> => {
          const api = inputs.resources.get(indicator);
          if (!api) throw new errors.InvalidTarget(`unknown resource indicator ${indicator}`);
          const grant = inputs.clientRecord(client.clientId)?.settings.resources.find((r) => r.resource === indicator);
          if (!grant) throw new errors.InvalidTarget(`client ${client.clientId} may not obtain tokens for ${indicator}`);
          if (isClientCredentials(ctx)) {
            const requested = String((ctx.oidc.params as Record<string, unknown>).scope ?? '').split(' ').filter(Boolean);
            const refused = requested.filter((s) => !grant.scopes.includes(s) && !SUPPORTED_SCOPES.includes(s));
            if (refused.length) throw new errors.InvalidScope(`scope not granted to this client for ${indicator}`, refused.join(' '));
          }
          return {
            scope: grant.scopes.join(' '),
            audience: indicator,
            accessTokenTTL: api.settings.accessTokenTtl,
            accessTokenFormat: api.settings.accessTokenFormat,
            ...(api.settings.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: defaultAlg } } } : {}),
          } as ResourceServer;
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const extra: Record<string, unknown> = { tid: tenant.id };
      const audience = token.resourceServer?.identifier?.() ?? undefined;
      const api = audience ? inputs.resources.get(audience) : undefined;
      const accountId = (token as { accountId?: string }).accountId;
      if (api && accountId && api.settings.userClaims.length > 0) {
        const user = await store.users.get(accountId);
        if (user) {
          const claims = await userClaims(store, user);
          for (const name of api.settings.userClaims) if (claims[name] !== undefined) extra[name] = claims[name];
        }
      }
      return { ...extra, ...tokenExchangeClaims(token) };
    },
  };

  const provider = new Provider(inputs.issuer, configuration);
  provider.proxy = config.server.trustProxy;

  // Stored secrets are digests: digest what the client presents, then compare in constant time.
  (provider.Client.prototype as unknown as { compareClientSecret(actual: string): boolean }).compareClientSecret = function (
    this: { clientSecret?: string },
    actual: string,
  ) {
    return typeof this.clientSecret === 'string' && secretMatchesDigest(actual, this.clientSecret);
  };

  registerTokenExchange(provider, {
    tenantId: tenant.id,
    resources: inputs.resources,
    clientRecord: inputs.clientRecord,
    jwks: inputs.jwks,
    signingAlg: defaultAlg,
    algorithms: ASYMMETRIC_JWS,
    clockToleranceSeconds: tokens.clockToleranceSeconds,
    findAccount: configuration.findAccount!,
  });

  hooks.onProvider?.(provider, tenant, store);
  return provider;
}
