import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { generateSync } from 'otplib';
import { totpAt, codeFor } from '../helpers/rfc6238.js';

// RFC 6238 appendix B: seeds are "12345678901234567890" repeated to the hash's length.
const SEED = { sha1: '12345678901234567890', sha256: '12345678901234567890123456789012', sha512: '1234567890123456789012345678901234567890123456789012345678901234' };
const VECTORS: Array<[number, keyof typeof SEED, string]> = [
  [59, 'sha1', '94287082'], [59, 'sha256', '46119246'], [59, 'sha512', '90693936'],
  [1111111109, 'sha1', '07081804'], [1111111109, 'sha256', '68084774'], [1111111109, 'sha512', '25091201'],
  [1111111111, 'sha1', '14050471'], [1234567890, 'sha1', '89005924'], [2000000000, 'sha1', '69279037'], [20000000000, 'sha1', '65353130'],
];

describe('the tests\' own RFC 6238 implementation', () => {
  it.each(VECTORS)('matches appendix B at T=%d with %s', (t, algorithm, expected) => {
    expect(totpAt(Buffer.from(SEED[algorithm]), t, { digits: 8, algorithm })).toBe(expected);
  });

  it('agrees with otplib, which Gatehouse uses', () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    for (const epoch of [0, 59, 1_800_000_000, 1_800_000_031]) expect(codeFor(secret, epoch)).toBe(generateSync({ secret, epoch }));
  });

  const oathtool = ['/usr/bin/oathtool'].find(existsSync);
  (oathtool ? it : it.skip)('agrees with Debian\'s oathtool (when installed)', () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const epoch = 1_800_000_000;
    const fromOathtool = execFileSync(oathtool!, ['--totp', '-b', '--now', `@${epoch}`, secret], { encoding: 'utf8' }).trim();
    expect(codeFor(secret, epoch)).toBe(fromOathtool);
  });
});
