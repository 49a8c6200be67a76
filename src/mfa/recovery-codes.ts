import { createHmac, randomInt } from 'node:crypto';

/** Crockford base32 without I, L, O, U: nothing a person can misread. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_CODE_COUNT = 10;

/** A recovery code: 10 random characters (50 bits), shown as `XXXXX-XXXXX`. */
export function generateRecoveryCode(): string {
  let raw = '';
  for (let i = 0; i < 10; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

/** What the person typed, in the one form that is hashed: upper case, no spaces or dashes. */
export function normalizeRecoveryCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/**
 * Stored as an HMAC under a key derived from the master key, bound to the user: a leaked table
 * of hashes cannot be brute-forced without the master key, and a code is worthless for anyone
 * else's account.
 */
export function hashRecoveryCode(key: Buffer, userId: string, typed: string): string {
  return createHmac('sha256', key).update(`${userId}:${normalizeRecoveryCode(typed)}`).digest('hex');
}
