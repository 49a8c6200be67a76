import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes (256 bits), base64url: the shape of every client secret we generate. */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A client secret is stored as a fast digest, not a slow password hash: the secret is 256 random
 * bits, so it cannot be guessed offline, and a fast digest keeps the token endpoint at thousands
 * of requests per second (argon2 would cap it at tens).
 */
export function digestSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** Constant-time check of a presented secret against a stored digest. */
export function secretMatchesDigest(presented: string, storedDigest: string): boolean {
  const actual = Buffer.from(digestSecret(presented), 'utf8');
  const expected = Buffer.from(storedDigest, 'utf8');
  if (actual.length !== expected.length) return false;
  return timingSafeEqual(actual, expected);
}

/** Constant-time equality of two strings (for tokens such as CSRF values). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** Short random identifiers for rows and references (base64url, 128 bits by default). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
