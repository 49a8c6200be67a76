import { z } from 'zod';
import { TOKEN_EXCHANGE_GRANT, tokenExchangePolicySchema } from '../tokens/token-exchange-policy.js';

export { TOKEN_EXCHANGE_GRANT };

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE_GRANT] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * Client authentication methods we accept. `client_secret_jwt` is left out on purpose: it needs
 * the plaintext secret as an HMAC key, and we store only a digest of each secret.
 */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,99}$/;
export const clientIdSchema = z
  .string()
  .regex(CLIENT_ID_PATTERN, 'a client id is 3 to 100 letters, digits, dots, underscores and hyphens');

/** A stored secret digest: the algorithm name, a colon, and the lowercase hex digest. */
export const SECRET_DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

const redirectUri = z.url({ protocol: /^https?$|^[a-z][a-z0-9+.-]*$/ }).refine((u) => !u.includes('#'), {
  message: 'a redirect URI must not contain a fragment (RFC 6749, section 3.1.2)',
});

/** Which APIs (resource indicators) a client may obtain tokens for, and which of their scopes. */
export const resourceGrantSchema = z.strictObject({
  resource: z.url(),
  scopes: z.array(z.string().min(1)).default([]),
});
export type ResourceGrant = z.infer<typeof resourceGrantSchema>;

const jwkSchema = z.looseObject({ kty: z.string() });

/**
 * An app (OAuth client) of a tenant, as declared in configuration or created with the CLI.
 * The same schema validates both, so the two can never disagree.
 */
export const clientInputSchema = z
  .strictObject({
    clientId: clientIdSchema.optional(),
    name: z.string().min(1).max(200).optional(),
    type: z.enum(['confidential', 'public']).default('confidential'),
    /** A plaintext secret, from an environment variable in declarative setups; at least 256 bits. */
    secret: z.string().min(43, 'a client secret must be at least 43 characters (256 bits in base64url)').optional(),
    /** Or only its digest, for GitOps setups that never see the secret. */
    secretDigest: z.string().regex(SECRET_DIGEST_PATTERN, 'a secret digest looks like sha256:<64 hex digits>').optional(),
    grantTypes: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
    redirectUris: z.array(redirectUri).default([]),
    postLogoutRedirectUris: z.array(redirectUri).default([]),
    backchannelLogoutUri: z.url().optional(),
    /** First-party apps of the tenant skip the consent page. */
    firstParty: z.boolean().default(false),
    /** OpenID scopes the app may request (beyond `openid`). */
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
    resources: z.array(resourceGrantSchema).default([]),
    tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1) }).optional(),
    /** Where a login can be started for the app by a third party (OIDC Core 4), e.g. a SAML partner's IdP-initiated sign-in. */
    initiateLoginUri: z.url({ protocol: /^https?$/ }).optional(),
    /** https; a loopback http(s) URL only with clients.allowInsecureLoopbackJwksUri (checked by ClientService). */
    jwksUri: z.url({ protocol: /^https?$/ }).optional(),
    /** RFC 8693: downstream APIs the app may call on a user's behalf (tokens/token-exchange-policy.ts). */
    tokenExchange: tokenExchangePolicySchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.type === 'public') {
      if (c.secret || c.secretDigest) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a public client has no secret' });
      if (c.tokenEndpointAuthMethod && c.tokenEndpointAuthMethod !== 'none')
        ctx.addIssue({ code: 'custom', path: ['tokenEndpointAuthMethod'], message: 'a public client authenticates with "none"' });
      if (c.grantTypes?.includes('client_credentials'))
        ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'a public client cannot use client_credentials' });
    }
    if (c.secret && c.secretDigest) ctx.addIssue({ code: 'custom', path: ['secretDigest'], message: 'give either secret or secretDigest, not both' });
    if (c.tokenEndpointAuthMethod === 'private_key_jwt' && !c.jwks && !c.jwksUri)
      ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'private_key_jwt needs the client\'s public keys (jwks or jwksUri)' });
    if (c.jwks && c.jwksUri) ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: 'give either jwks or jwksUri, not both' });
    const grants = c.grantTypes ?? [];
    if (c.tokenExchange && c.type === 'public')
      ctx.addIssue({ code: 'custom', path: ['tokenExchange'], message: 'a public client cannot exchange tokens (it cannot authenticate)' });
    if (c.tokenExchange && c.grantTypes && !grants.includes(TOKEN_EXCHANGE_GRANT))
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: `a token exchange policy needs the ${TOKEN_EXCHANGE_GRANT} grant` });
    if (grants.includes(TOKEN_EXCHANGE_GRANT) && !c.tokenExchange)
      ctx.addIssue({ code: 'custom', path: ['tokenExchange'], message: 'the token exchange grant needs a tokenExchange policy (which APIs, which scopes)' });
    if (grants.includes('authorization_code') && c.redirectUris.length === 0)
      ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'the authorization_code grant needs at least one redirect URI' });
  });
export type ClientInput = z.input<typeof clientInputSchema>;
export type ClientInputParsed = z.output<typeof clientInputSchema>;
