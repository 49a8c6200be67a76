import { z } from 'zod';

/** Attributes of the signed-in user that a resource server may ask to find in its tokens. */
export const USER_TOKEN_CLAIMS = ['roles', 'groups', 'email', 'name'] as const;

/**
 * An API (resource server, RFC 8707 resource indicator) of a tenant. Access tokens for it carry
 * its identifier as `aud`.
 */
export const resourceServerInputSchema = z.strictObject({
  identifier: z.url().refine((u) => !u.includes('#'), { message: 'a resource indicator must not contain a fragment (RFC 8707, section 2)' }),
  name: z.string().min(1).max(200).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749, section 3.3)')).default([]),
  /** JWT (RFC 9068) by default: verified offline. Opaque when revocation must take effect at once. */
  accessTokenFormat: z.enum(['jwt', 'opaque']).default('jwt'),
  /** Seconds. Short by default: JWTs cannot be revoked before they expire. */
  accessTokenTtl: z.number().int().min(30).max(86400).default(600),
  userClaims: z.array(z.enum(USER_TOKEN_CLAIMS)).default([]),
});
export type ResourceServerInput = z.input<typeof resourceServerInputSchema>;
export type ResourceServerInputParsed = z.output<typeof resourceServerInputSchema>;
