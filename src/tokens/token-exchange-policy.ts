import { z } from 'zod';

/** RFC 8693 token exchange grant type (section 2.1). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 section 3: the token type identifiers Gatehouse takes and issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Which downstream APIs an app (a service) may call on a user's behalf by exchanging the user's
 * access token (RFC 8693), and the most it may get for each. It is part of the app's settings:
 * the policy lives and dies with the app, is cached with it per tenant, and a change to it bumps
 * the tenant's revision like every other app change, so every server process applies it on its
 * next request.
 *
 * An exchanged token's scopes are never wider than the subject token's scopes, nor than the
 * scopes listed here for its API; its lifetime never exceeds the subject token's.
 */
export const tokenExchangePolicySchema = z.strictObject({
  /** The downstream APIs (resource indicators of this tenant) and their scopes. */
  resources: z
    .array(
      z.strictObject({
        resource: z.url(),
        scopes: z.array(z.string().min(1)).min(1, 'list the scopes the app may obtain for this API'),
      }),
    )
    .min(1),
  /**
   * When set, a subject token is accepted only if it was issued for one of these APIs (its
   * `aud`): the app may exchange the tokens users send to it, not tokens meant for others.
   * When absent, a user token for any API of the tenant is accepted.
   */
  subjectAudiences: z.array(z.url()).min(1).optional(),
});
export type TokenExchangePolicy = z.output<typeof tokenExchangePolicySchema>;
