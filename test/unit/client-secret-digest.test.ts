import { describe, expect, it } from '@jest/globals';
import { digestSecret, generateSecret, secretMatchesDigest } from '../../src/crypto/secrets.js';

describe('client secrets', () => {
  it('are 256 random bits', () => {
    const secret = generateSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('are stored as a SHA-256 digest and checked against it', () => {
    const secret = generateSecret();
    const digest = digestSecret(secret);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digest).not.toContain(secret);
    expect(secretMatchesDigest(secret, digest)).toBe(true);
    expect(secretMatchesDigest(`${secret}x`, digest)).toBe(false);
    expect(secretMatchesDigest('', digest)).toBe(false);
  });
});
