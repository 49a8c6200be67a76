import { describe, expect, it } from '@jest/globals';
import { bearerChallenge, bearerToken, VerifyError } from '../../src/verify/index.js';

/** RFC 6750: reading bearer tokens (section 2.1) and writing challenges (section 3). */
describe('bearer tokens and challenges', () => {
  it('reads the token of an Authorization: Bearer header, whatever the scheme\'s case', () => {
    expect(bearerToken('Bearer abc.def-ghi_jkl~')).toBe('abc.def-ghi_jkl~');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
  });

  it('calls another scheme or a malformed value invalid_request', () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer "quoted"', 'Bearer a,b']) {
      expect(() => bearerToken(header)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400 }));
    }
  });

  it('writes a bare challenge when no token was sent (section 3.1: no error code)', () => {
    expect(bearerChallenge(undefined, 'orders')).toBe('Bearer realm="orders"');
    expect(bearerChallenge(undefined, undefined)).toBe('Bearer');
  });

  it('writes error, description and scope, keeping only the characters section 3 allows', () => {
    const error = new VerifyError('insufficient_scope', 'needs "more" \\ scope\n', { scope: 'orders:write' });
    expect(bearerChallenge(error, 'orders')).toBe('Bearer realm="orders", error="insufficient_scope", error_description="needs more  scope", scope="orders:write"');
  });
});
