import { hostname } from 'node:os';
import { randomId } from '../../crypto/secrets.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import { assertPublicDestination } from '../../http/outbound-guard.js';
import type { Store } from '../../store/store.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { WebhookDeliveryRecord, WebhookSubscriptionRecord } from '../../store/repositories/webhook-repository.js';
import type { GatehouseConfig } from '../../config/schema.js';
import { changeEvent } from '../change-feed.js';
import { eventMatches } from './webhook-events.js';
import { retryDelayMs, type RetryPolicy } from './retry-policy.js';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.js';
import type { WebhookService } from './webhook-service.js';

/** What one HTTP attempt came to: a status code, or an error before any response. */
export interface SendResult {
  status?: number;
  error?: string;
}

/** Sends one signed POST; injectable so that a test can count or slow down requests. */
export type WebhookSender = (url: string, headers: Record<string, string>, body: string, timeoutMs: number) => Promise<SendResult>;

/**
 * The default sender: Node's fetch, no redirects followed (a redirect is a failed attempt: a
 * subscription names its receiver exactly), a time limit per attempt. Error texts are short
 * codes, never a response body (which could echo the payload or secrets of the receiver).
 */
export const fetchSender = (options: { allowPrivateNetworks: boolean }): WebhookSender => async (url, headers, body, timeoutMs) => {
  try {
    await assertPublicDestination(url, options.allowPrivateNetworks);
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { error: 'timeout' };
    if ((error as { code?: string }).code === 'outbound.private_address') return { error: 'private_address' };
    return { error: e.cause?.code ?? 'network_error' };
  }
};

/** Changes turned into deliveries per subscription per round (the rest follow next round). */
const ENQUEUE_BATCH = 500;

export interface WebhookDispatcherOptions {
  store: Store;
  webhooks: WebhookService;
  clock: Clock;
  logger: Logger;
  config: GatehouseConfig['webhooks'];
  sender?: WebhookSender;
  /** Receivers may be on private or loopback addresses (outbound.allowPrivateNetworks). */
  allowPrivateNetworks?: boolean;
  /** Pins the retry jitter in tests. */
  random?: () => number;
  /** Names this dispatcher in leases (default: host, process and a random part). */
  owner?: string;
}

/**
 * Delivers directory changes to webhook subscriptions, at least once, in order per object.
 *
 * Each round, for every tenant with work: (1) new changes of the feed become deliveries, one per
 * matching subscription, by moving the subscription's mark with a compare-and-set, so that two
 * dispatchers never enqueue the same change twice; (2) due deliveries are claimed with a lease
 * (a conditional update only one dispatcher can win) and sent. Only the first pending delivery
 * of an object (per subscription) is ever due: the next change of that object waits until it is
 * delivered or given up. A dispatcher that dies mid-attempt leaves a lease that expires; the
 * delivery is then sent again (hence at least once; receivers deduplicate by event id).
 *
 * Every server process may run one: they share the work through the store.
 */
export class WebhookDispatcher {
  readonly owner: string;
  private readonly sender: WebhookSender;
  private readonly policy: RetryPolicy;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomId(4)}`;
    this.sender = options.sender ?? fetchSender({ allowPrivateNetworks: options.allowPrivateNetworks ?? false });
    const c = options.config;
    this.policy = { baseSeconds: c.retryBaseSeconds, maxSeconds: c.retryMaxSeconds, maxAttempts: c.maxAttempts, random: options.random };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.options.config.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for the round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round over every tenant with work; rounds of one dispatcher never overlap. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const log = this.options.logger;
    let tenants: string[];
    try {
      tenants = await this.options.store.tenantsWithWebhookWork(this.options.clock.now());
    } catch (error) {
      log.warn({ err: error }, 'webhook dispatch: could not look for work; will retry');
      return;
    }
    for (const tenantId of tenants) {
      try {
        const store = this.options.store.forTenant(tenantId);
        await this.enqueue(store);
        await this.deliverDue(store);
      } catch (error) {
        log.warn({ err: error, tenant: tenantId }, 'webhook dispatch failed for a tenant; will retry');
      }
    }
  }

  /** Turns changes after each subscription's mark into deliveries (step 1). */
  private async enqueue(store: TenantStore): Promise<void> {
    const { lastSeq } = await store.directoryChanges.bounds();
    for (const sub of await store.webhooks.listSubscriptions()) {
      if (!sub.enabled || sub.enqueuedSeq >= lastSeq) continue;
      await store.transaction(async (trx) => {
        const changes = await trx.directoryChanges.list(sub.enqueuedSeq, ENQUEUE_BATCH);
        if (changes.length === 0) return;
        // The compare-and-set comes first: the loser of a race writes nothing at all.
        if (!(await trx.webhooks.advanceEnqueued(sub.id, sub.enqueuedSeq, changes.at(-1)!.seq))) return;
        for (const change of changes) {
          const event = changeEvent(change);
          if (!eventMatches(sub.events, event.type)) continue;
          await trx.webhooks.insertDelivery({
            id: `${sub.id}.${change.seq}`,
            subscriptionId: sub.id,
            seq: change.seq,
            orderingKey: `${change.objectType}:${change.objectId}`,
            eventType: event.type,
            payload: JSON.stringify({ id: `${store.tenantId}.${change.seq}`, type: event.type, tenant: store.tenantId, createdAt: event.occurredAt, change: event }),
          });
        }
      });
    }
  }

  /** Claims and sends the due deliveries (step 2), a few at once. */
  private async deliverDue(store: TenantStore): Promise<void> {
    const now = this.options.clock.now();
    const due = await store.webhooks.dueHeads(now, this.options.config.batchSize);
    if (due.length === 0) return;
    const subscriptions = new Map((await store.webhooks.listSubscriptions()).map((s) => [s.id, s]));
    const queue = [...due];
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const sub = subscriptions.get(d.subscriptionId);
        if (!sub?.enabled) continue;
        const leaseUntil = this.options.clock.now() + this.options.config.leaseSeconds * 1000;
        if (!(await store.webhooks.claim(d.id, this.owner, this.options.clock.now(), leaseUntil))) continue;
        await this.attempt(store, sub, d);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.config.concurrency, queue.length) }, worker));
  }

  private async attempt(store: TenantStore, sub: WebhookSubscriptionRecord, d: WebhookDeliveryRecord): Promise<void> {
    const startedAt = this.options.clock.now();
    const started = performance.now();
    const timestamp = Math.floor(startedAt / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Gatehouse-Webhooks/1',
      'gatehouse-event-id': `${store.tenantId}.${d.seq}`,
      'gatehouse-event-type': d.eventType,
      'gatehouse-delivery-id': d.id,
      'gatehouse-delivery-attempt': String(d.attempts + 1),
      [SIGNATURE_HEADER.toLowerCase()]: signatureHeader(this.options.webhooks.secretOf(store, sub), timestamp, d.payload),
    };
    const result = await this.sender(sub.url, headers, d.payload, this.options.config.requestTimeoutMs);
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const attempt = d.attempts + 1;
    const givingUp = !ok && attempt >= this.policy.maxAttempts;
    const error = ok ? undefined : (result.error ?? `http_${result.status}`);
    const finished = await store.transaction((trx) =>
      trx.webhooks.finishAttempt(d.id, this.owner, {
        startedAt,
        durationMs: Math.round(performance.now() - started),
        statusCode: result.status,
        error,
        status: ok ? 'delivered' : givingUp ? 'failed' : 'pending',
        nextAttemptAt: ok || givingUp ? undefined : this.options.clock.now() + retryDelayMs(this.policy, attempt),
      }),
    );
    if (!finished) this.options.logger.warn({ tenant: store.tenantId, delivery: d.id }, 'webhook delivery lease was lost during the attempt; another dispatcher will send it again');
    else if (givingUp) this.options.logger.warn({ tenant: store.tenantId, delivery: d.id, attempts: attempt, error }, 'webhook delivery given up');
  }
}
