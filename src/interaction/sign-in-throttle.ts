import type { Clock } from '../clock.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { ThrottleSettings } from '../tenants/tenant-settings.js';

export type ThrottleVerdict = { allowed: true } | { allowed: false; reason: 'locked_out' | 'throttled'; retryAfterSeconds: number; key: 'account' | 'ip' };

const accountKey = (username: string) => `account:${username.trim().toLowerCase()}`;
const ipKey = (ip: string) => `ip:${ip}`;

/**
 * Growing delays, then a temporary lockout, per account and per client IP, counted in the store
 * so that every server process sees the same counters. A refused attempt is refused before any
 * password is checked, so a locked account cannot be probed. Accounts that do not exist are
 * counted like those that do: the lockout does not reveal which usernames are real.
 */
export class SignInThrottle {
  constructor(private readonly clock: Clock) {}

  private delaySeconds(failures: number, s: ThrottleSettings): number {
    if (failures < s.freeAttempts) return 0;
    return Math.min(s.maxDelaySeconds, s.delayBaseSeconds * 2 ** (failures - s.freeAttempts));
  }

  async check(store: TenantStore, settings: ThrottleSettings, username: string, ip: string | undefined): Promise<ThrottleVerdict> {
    const now = this.clock.now();
    const windowMs = settings.windowMinutes * 60_000;
    for (const [kind, key] of [['account', accountKey(username)], ['ip', ip ? ipKey(ip) : undefined]] as const) {
      if (!key) continue;
      const record = await store.throttle.get(key);
      if (!record) continue;
      if (record.lockedUntil && record.lockedUntil > now) {
        return { allowed: false, reason: 'locked_out', retryAfterSeconds: Math.ceil((record.lockedUntil - now) / 1000), key: kind };
      }
      if (record.lastFailedAt < now - windowMs) continue;
      const waitUntil = record.lastFailedAt + this.delaySeconds(record.failures, settings) * 1000;
      if (kind === 'account' && waitUntil > now) {
        return { allowed: false, reason: 'throttled', retryAfterSeconds: Math.ceil((waitUntil - now) / 1000), key: kind };
      }
    }
    return { allowed: true };
  }

  /** Counts a failure; returns which keys this failure locked (for the audit log). */
  async recordFailure(store: TenantStore, settings: ThrottleSettings, username: string, ip: string | undefined): Promise<Array<'account' | 'ip'>> {
    const now = this.clock.now();
    const windowMs = settings.windowMinutes * 60_000;
    const locked: Array<'account' | 'ip'> = [];
    const account = await store.throttle.recordFailure(accountKey(username), now, windowMs);
    if (account.failures >= settings.lockoutAfter && !(account.lockedUntil && account.lockedUntil > now)) {
      await store.throttle.lock(accountKey(username), now + settings.lockoutMinutes * 60_000);
      locked.push('account');
    }
    if (ip) {
      const byIp = await store.throttle.recordFailure(ipKey(ip), now, windowMs);
      if (byIp.failures >= settings.ipLockoutAfter && !(byIp.lockedUntil && byIp.lockedUntil > now)) {
        await store.throttle.lock(ipKey(ip), now + settings.lockoutMinutes * 60_000);
        locked.push('ip');
      }
    }
    return locked;
  }

  async recordSuccess(store: TenantStore, username: string): Promise<void> {
    await store.throttle.clear(accountKey(username));
  }
}
