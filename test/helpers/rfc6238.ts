import { createHmac } from 'node:crypto';

/**
 * An RFC 6238 TOTP written for the tests, independent of otplib: HMAC over the big-endian time
 * step counter (RFC 4226 section 5.2), dynamic truncation (section 5.3), modulo 10^digits.
 * Checked against the RFC's appendix B vectors in test/unit/rfc6238-reference.test.ts.
 */
export function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of input.replace(/=+$/, '').replace(/\s/g, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totpAt(key: Buffer, epochSeconds: number, options: { digits?: number; period?: number; algorithm?: 'sha1' | 'sha256' | 'sha512' } = {}): string {
  const { digits = 6, period = 30, algorithm = 'sha1' } = options;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(epochSeconds / period)));
  const hmac = createHmac(algorithm, key).update(counter).digest();
  const offset = hmac[hmac.length - 1]! & 0x0f;
  const binary = ((hmac[offset]! & 0x7f) << 24) | (hmac[offset + 1]! << 16) | (hmac[offset + 2]! << 8) | hmac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The 6-digit code of a base32 secret (as in otpauth:// URIs) at a time step offset from `epochSeconds`. */
export function codeFor(secretBase32: string, epochSeconds: number, stepOffset = 0): string {
  return totpAt(base32Decode(secretBase32), epochSeconds + stepOffset * 30);
}
