import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SecretBox, masterKeyId } from '../../src/crypto/envelope.js';

const key = () => {
  const k = randomBytes(32);
  return { id: masterKeyId(k), key: k };
};

describe('envelope encryption of secrets at rest', () => {
  it('opens what it sealed, and the sealed form does not contain the secret', () => {
    const box = new SecretBox([key()]);
    const sealed = box.seal('the-private-key', 'tenant:a|signing-key:k1');
    expect(sealed).not.toContain('the-private-key');
    expect(box.openString(sealed, 'tenant:a|signing-key:k1')).toBe('the-private-key');
  });

  it('refuses to open a value moved to another tenant or purpose', () => {
    const box = new SecretBox([key()]);
    const sealed = box.seal('secret', 'tenant:a|signing-key:k1');
    expect(() => box.open(sealed, 'tenant:b|signing-key:k1')).toThrow(/integrity/);
    expect(() => box.open(sealed, 'tenant:a|ldap-bind-password:c1')).toThrow(/integrity/);
  });

  it('refuses a tampered value', () => {
    const box = new SecretBox([key()]);
    const parts = box.seal('secret', 'ctx').split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[body.length - 20]! ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'ctx')).toThrow(/integrity/);
  });

  it('keeps old secrets readable after a master key rotation, and seals new ones with the new key', () => {
    const oldKey = key();
    const newKey = key();
    const sealedOld = new SecretBox([oldKey]).seal('old', 'ctx');
    const rotated = new SecretBox([newKey, oldKey]);
    expect(rotated.openString(sealedOld, 'ctx')).toBe('old');
    expect(rotated.seal('new', 'ctx').split('.')[1]).toBe(newKey.id);
    expect(() => new SecretBox([newKey]).open(sealedOld, 'ctx')).toThrow(/not configured/);
  });

  it('derives the same purpose keys in every process from the same master key', () => {
    const k = key();
    expect(new SecretBox([k]).deriveKeys('cookies|tenant:a')[0]).toEqual(new SecretBox([k]).deriveKeys('cookies|tenant:a')[0]);
    expect(new SecretBox([k]).deriveKeys('cookies|tenant:a')[0]).not.toEqual(new SecretBox([k]).deriveKeys('cookies|tenant:b')[0]);
  });
});
