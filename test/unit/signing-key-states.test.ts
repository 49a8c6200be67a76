import { describe, expect, it } from '@jest/globals';
import { keyStateAt } from '../../src/tokens/signing-keys.js';
import type { SigningKeyRecord } from '../../src/store/repositories/signing-key-repository.js';

const key = (kid: string, signsFrom: number, retiredAt?: number, publishUntil?: number): SigningKeyRecord => ({
  kid,
  alg: 'ES256',
  publicJwk: {},
  privateJwkSealed: '',
  createdAt: 0,
  signsFrom,
  retiredAt,
  publishUntil,
});

describe('signing key states over a rotation', () => {
  // k1 signs from 0; a rotation at 100 publishes k2, which signs from 160 (publish ahead 60);
  // k1 is retired at 160 and stays published until 160 + 700 (its tokens' lifetime).
  const k1 = key('k1', 0, 160, 860);
  const k2 = key('k2', 160);
  const keys = [k1, k2];

  it('publishes the new key before it signs', () => {
    expect(keyStateAt(k2, keys, 120)).toBe('pending');
    expect(keyStateAt(k1, keys, 120)).toBe('active');
  });

  it('switches signing at the announced time', () => {
    expect(keyStateAt(k2, keys, 160)).toBe('active');
    expect(keyStateAt(k1, keys, 160)).toBe('retired');
  });

  it('keeps the retired key published until its tokens have expired, then drops it', () => {
    expect(keyStateAt(k1, keys, 859)).toBe('retired');
    expect(keyStateAt(k1, keys, 860)).toBe('unpublished');
  });

  it('treats an older key as retired when a newer one of the same algorithm signs', () => {
    const old = key('old', 0);
    const newer = key('new', 50);
    expect(keyStateAt(old, [old, newer], 60)).toBe('retired');
    expect(keyStateAt(newer, [old, newer], 60)).toBe('active');
  });
});
