import { describe, test } from '@jest/globals';

/**
 * Integration tests need real components (PostgreSQL, slapd, Chromium, ...). Outside CI a test
 * whose component is missing is skipped with a printed reason; with CI=true it must run, so a
 * missing component fails the suite instead of silently skipping.
 */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function describeWhen(available: { ok: boolean; reason?: string }, name: string, body: () => void): void {
  if (available.ok) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      test(`requires: ${available.reason}`, () => {
        throw new Error(`CI=true but ${available.reason}: integration tests must run in CI`);
      });
    });
    return;
  }
  process.stderr.write(`\n[skipped] ${name}: ${available.reason}\n`);
  describe.skip(name, body);
}
