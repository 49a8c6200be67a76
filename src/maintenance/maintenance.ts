import type { Services } from '../services.js';

/**
 * Background upkeep on a timer: expired sessions, codes, tokens and interactions are deleted,
 * signing keys whose tokens have all expired leave the store, directory changes and webhook
 * deliveries older than their retention periods are removed, and SAML partner metadata that is
 * due is fetched again. Every server process runs it; the deletes are idempotent, so several
 * processes doing it at once is harmless (a metadata refresh may then run twice, also harmless).
 */
export function startMaintenance(services: Services): { stop(): void; runOnce(): Promise<void> } {
  const seconds = services.config.maintenance.purgeIntervalSeconds;
  const log = services.logger.child({ component: 'maintenance' });
  let running = false;
  const runOnce = async () => {
    if (running) return;
    running = true;
    try {
      const day = 86_400_000;
      const now = services.clock.now();
      const purged = await services.store.purgeExpired({
        directoryChangesBefore: now - services.config.directory.changeRetentionDays * day,
        webhookDeliveriesBefore: now - services.config.webhooks.deliveryRetentionDays * day,
      });
      if (purged) log.info({ purged }, 'purged expired rows');
      const metadata = await services.saml.refreshDueMetadata(services.store);
      if (metadata.refreshed || metadata.failed) log.info({ samlMetadata: metadata }, 'refreshed SAML partner metadata');
    } catch (error) {
      log.warn({ err: error }, 'purge failed; will retry');
    } finally {
      running = false;
    }
  };
  const timer = seconds > 0 ? setInterval(runOnce, seconds * 1000) : undefined;
  timer?.unref();
  return { stop: () => timer && clearInterval(timer), runOnce };
}
