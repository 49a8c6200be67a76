import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../src/clock.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { SignInThrottle } from '../../src/interaction/sign-in-throttle.js';
import { parseTenantSettings, throttleSchema } from '../../src/tenants/tenant-settings.js';

/** The throttle's arithmetic against a real store (SQLite in memory), with time moved by hand. */
describe('failed sign-in throttling', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const throttle = new SignInThrottle(clock);
  const settings = throttleSchema.parse({ freeAttempts: 2, delayBaseSeconds: 2, maxDelaySeconds: 8, lockoutAfter: 6, lockoutMinutes: 10, windowMinutes: 15, ipLockoutAfter: 4 });
  let store: Store;

  beforeAll(async () => {
    store = openStore({ url: 'sqlite::memory:', clock });
    await store.migrate();
    await store.createTenant({ id: 't', displayName: 'T', status: 'active', settings: parseTenantSettings({}) }, async () => {});
  });
  afterAll(async () => store.close());

  it('grows the delay after the free attempts, then locks the account out', async () => {
    const ts = store.forTenant('t');
    const fail = () => throttle.recordFailure(ts, settings, 'Bob', undefined);
    await fail();
    expect(await throttle.check(ts, settings, 'bob', undefined)).toEqual({ allowed: true });
    await fail(); // 2 failures: delay 2 s
    expect(await throttle.check(ts, settings, 'bob', undefined)).toMatchObject({ allowed: false, reason: 'throttled', retryAfterSeconds: 2 });
    clock.advance(2000);
    expect((await throttle.check(ts, settings, 'bob', undefined)).allowed).toBe(true);
    await fail(); // 3: delay 4 s
    expect(await throttle.check(ts, settings, 'bob', undefined)).toMatchObject({ retryAfterSeconds: 4 });
    clock.advance(4000);
    await fail(); // 4: delay 8 s
    clock.advance(1000);
    expect(await throttle.check(ts, settings, 'bob', undefined)).toMatchObject({ retryAfterSeconds: 7 });
    clock.advance(7000);
    await fail(); // 5: capped at 8 s
    expect(await throttle.check(ts, settings, 'bob', undefined)).toMatchObject({ retryAfterSeconds: 8 });
    clock.advance(8000);
    expect(await fail()).toEqual(['account']); // 6: locked
    expect(await throttle.check(ts, settings, 'bob', undefined)).toMatchObject({ allowed: false, reason: 'locked_out', retryAfterSeconds: 600 });
    clock.advance(600_000);
    expect((await throttle.check(ts, settings, 'bob', undefined)).allowed).toBe(true);
  });

  it('locks a client IP that fails across many accounts, and forgets failures after the window', async () => {
    const ts = store.forTenant('t');
    for (const user of ['u1', 'u2', 'u3']) await throttle.recordFailure(ts, settings, user, '203.0.113.9');
    expect(await throttle.recordFailure(ts, settings, 'u4', '203.0.113.9')).toEqual(['ip']);
    expect(await throttle.check(ts, settings, 'someone-else', '203.0.113.9')).toMatchObject({ allowed: false, reason: 'locked_out', key: 'ip' });
    expect((await throttle.check(ts, settings, 'someone-else', '198.51.100.1')).allowed).toBe(true);
    clock.advance(16 * 60_000);
    await throttle.recordFailure(ts, settings, 'u1', undefined);
    expect((await store.forTenant('t').throttle.get('account:u1'))!.failures).toBe(1);
  });

  it('clears the account counter after a success', async () => {
    const ts = store.forTenant('t');
    await throttle.recordFailure(ts, settings, 'carol', undefined);
    await throttle.recordSuccess(ts, 'carol');
    expect(await ts.throttle.get('account:carol')).toBeUndefined();
  });
});
