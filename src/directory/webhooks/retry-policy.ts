/**
 * When a failed delivery is tried again: exponential back-off with jitter and a cap. The n-th
 * retry waits base * 2^(n-1) seconds, at most `max`, of which a random half is jitter ("equal
 * jitter"): receivers that went down together are not all retried in the same second when they
 * come back, and no retry comes sooner than half its nominal delay.
 */
export interface RetryPolicy {
  baseSeconds: number;
  maxSeconds: number;
  maxAttempts: number;
  /** A number in [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
}

export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const nominal = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.min(attempt - 1, 30)) * 1000;
  const random = policy.random ?? Math.random;
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
