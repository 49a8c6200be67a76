import type Provider from 'oidc-provider';
import { errors, type FindAccount, type KoaContextWithOIDC, type ResourceServer, type TokenEndpointGrantContext } from 'oidc-provider';
import type { JWK } from 'jose';
import type { ClientRecord } from '../store/repositories/client-repository.js';
import type { ResourceServerRecord } from '../store/repositories/resource-server-repository.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './token-exchange-policy.js';
import { createSubjectTokenVerifier, type SubjectToken } from './subject-token.js';

/** RFC 8693 section 2.1 request parameters (plus `resource`, RFC 8707, and `scope`). */
const PARAMETERS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'];

interface ExchangeParams {
  subject_token?: string;
  subject_token_type?: string;
  actor_token?: string;
  actor_token_type?: string;
  requested_token_type?: string;
  audience?: string;
  resource?: string;
  scope?: string;
}

export interface TokenExchangeOptions {
  tenantId: string;
  /** The tenant's APIs, by identifier. */
  resources: Map<string, ResourceServerRecord>;
  /** A client of this tenant as stored (its token exchange policy), from the runtime's cache. */
  clientRecord(clientId: string): ClientRecord | undefined;
  /** The tenant's published keys (the private members are dropped before use). */
  jwks: JWK[];
  /** The tenant's default signing algorithm, for JWT access tokens. */
  signingAlg: string;
  /** Asymmetric algorithms a subject token may be signed with. */
  algorithms: string[];
  clockToleranceSeconds: number;
  findAccount: FindAccount;
}

/**
 * Claims an exchanged token carries beyond the usual ones: `act` (RFC 8693 section 4.1). Kept
 * per token object, so that `extraTokenClaims` (provider-factory.ts) adds them to exactly the
 * tokens this grant issues, whatever their format.
 */
const exchangeClaims = new WeakMap<object, Record<string, unknown>>();

/** The claims to add to `token` if this grant issued it; empty for every other token. */
export function tokenExchangeClaims(token: object): Record<string, unknown> {
  return exchangeClaims.get(token) ?? {};
}

/** oidc-provider uses whole seconds of the system clock for iat and exp; so do we, to compare with them. */
const epochNow = () => Math.floor(Date.now() / 1000);

/**
 * RFC 8693 token exchange for one tenant's provider: a service holding a user's access token
 * obtains a token for a downstream API, on the user's behalf. The steps run in the order below;
 * each refuses with the OAuth error the RFCs name.
 */
export function registerTokenExchange(provider: Provider, options: TokenExchangeOptions): void {
  const verifySubject = createSubjectTokenVerifier({
    provider,
    tenantId: options.tenantId,
    jwks: options.jwks,
    algorithms: options.algorithms,
    clockToleranceSeconds: options.clockToleranceSeconds,
  });

  async function handler(ctx: TokenEndpointGrantContext<ExchangeParams>): Promise<void> {
    const params = ctx.oidc.params;
    const client = ctx.oidc.client;

    // 1. RFC 8693 section 2.1: subject_token and subject_token_type are required; we take access
    //    tokens only and issue access tokens only. The calling client is the actor (section 4.1),
    //    so an actor_token is not taken.
    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (!params.subject_token_type) throw new errors.InvalidRequest('missing required parameter subject_token_type');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`unsupported subject_token_type; use ${ACCESS_TOKEN_TYPE}`);
    if (params.actor_token || params.actor_token_type) throw new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor');
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`unsupported requested_token_type; only ${ACCESS_TOKEN_TYPE} is issued`);
    }

    // 2. The target API: `resource` (RFC 8707) or `audience` (RFC 8693 section 2.1), one API.
    //    Without either, the client's only exchange target, as client credentials do.
    const policy = options.clientRecord(client.clientId)?.settings.tokenExchange;
    if (!policy) throw new errors.UnauthorizedClient('this client has no token exchange policy');
    if (params.resource && params.audience && params.resource !== params.audience) {
      throw new errors.InvalidTarget('resource and audience name different APIs');
    }
    const target = params.resource ?? params.audience ?? (policy.resources.length === 1 ? policy.resources[0]!.resource : undefined);
    if (!target) throw new errors.InvalidTarget('name the downstream API with resource or audience');

    // 3. The tenant's policy: may this client exchange for this API, and for which scopes at most
    //    (RFC 8693 section 2.2.2: invalid_target when unwilling to issue for the target).
    const allowed = policy.resources.find((r) => r.resource === target);
    const api = options.resources.get(target);
    if (!allowed || !api) throw new errors.InvalidTarget(`this client may not exchange tokens for ${target}`);

    // 4. The subject token: a valid access token of a user of this tenant.
    const subject = await verifySubject(params.subject_token);
    if (policy.subjectAudiences && !subject.audiences.some((aud) => policy.subjectAudiences!.includes(aud))) {
      throw new errors.InvalidGrant('subject_token was not issued for an API this client may exchange from');
    }
    const account = await options.findAccount(ctx as KoaContextWithOIDC, subject.accountId);
    if (!account) throw new errors.InvalidGrant('subject_token user is unknown or disabled');

    // 5. Scopes: never wider than the subject token's, the policy's and the API's.
    const scope = exchangedScope(params.scope, subject, allowed.scopes, api.settings.scopes, target);

    // 6. Lifetime: never longer than what is left of the subject token's.
    const remaining = subject.exp - epochNow();
    if (remaining <= 0) throw new errors.InvalidGrant('subject_token has expired');
    const expiresIn = Math.min(api.settings.accessTokenTtl, remaining);

    // 7. Issue it: audience = the downstream API, sub = the user, act = the calling client
    //    (RFC 8693 section 4.1), nesting any delegation the subject token already carried.
    const info: ResourceServer = {
      scope: scope.join(' '),
      audience: target,
      accessTokenTTL: expiresIn,
      accessTokenFormat: api.settings.accessTokenFormat,
      ...(api.settings.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: options.signingAlg } } } : {}),
    } as ResourceServer;
    const token = new provider.AccessToken({
      accountId: subject.accountId,
      client,
      gty: 'token_exchange',
      scope: scope.join(' '),
      resourceServer: new provider.ResourceServer(target, info),
      expiresIn,
      // No grant id: the user's grant belongs to another app. The token's lifetime is bounded by
      // the subject token's instead.
    } as unknown as ConstructorParameters<Provider['AccessToken']>[0]);
    exchangeClaims.set(token, { act: subject.act ? { sub: client.clientId, act: subject.act } : { sub: client.clientId } });
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();

    // RFC 8693 section 2.2.1.
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: token.tokenType,
      expires_in: expiresIn,
      scope: scope.join(' '),
    };
  }

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler, PARAMETERS);
}

/**
 * The scopes of the exchanged token. Asking for a scope beyond what may be delegated is refused
 * (invalid_scope, RFC 6749 section 5.2) rather than silently narrowed, so a widening attempt is
 * visible in the audit log; asking for nothing yields everything that may be delegated.
 */
function exchangedScope(requested: string | undefined, subject: SubjectToken, policyScopes: string[], apiScopes: string[], target: string): string[] {
  const delegable = policyScopes.filter((s) => apiScopes.includes(s) && subject.scopes.has(s));
  if (requested !== undefined && requested.trim() !== '') {
    const asked = [...new Set(requested.split(' ').filter(Boolean))];
    const wider = asked.filter((s) => !delegable.includes(s));
    if (wider.length) throw new errors.InvalidScope(`scope exceeds what the subject token and the policy allow for ${target}`, wider.join(' '));
    return asked;
  }
  if (delegable.length === 0) throw new errors.InvalidScope(`the subject token carries none of the scopes this client may obtain for ${target}`, policyScopes.join(' '));
  return delegable;
}
