import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { SecretBox } from '../../crypto/envelope.js';
import { generateSecret, randomId } from '../../crypto/secrets.js';
import type { AuditLog, Actor } from '../../audit/audit-log.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { WebhookSubscriptionRecord, WebhookDeliveryRecord, WebhookAttemptRecord, DeliveryStatus } from '../../store/repositories/webhook-repository.js';
import { GatehouseError, notFound } from '../../errors/gatehouse-error.js';
import { formatZodError } from '../../config/zod-messages.js';
import { eventFilterSchema } from './webhook-events.js';

/** The sealed secret is bound to its tenant and subscription: copied elsewhere it does not open. */
const sealContext = (tenantId: string, id: string) => `tenant:${tenantId}|webhook:${id}`;

export const webhookInputSchema = z.strictObject({
  /** A slug chosen by the admin (or generated). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a webhook id is lowercase letters, digits and -').optional(),
  url: z.url({ protocol: /^https?$/ }).refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), { message: 'a webhook URL must not carry credentials' }),
  events: z.array(eventFilterSchema).min(1).default(['*']),
  description: z.string().max(200).optional(),
  /** Given in declarative configuration (from the environment); generated otherwise. */
  secret: z.string().min(24, 'a webhook secret is at least 24 characters').max(256).optional(),
});
export type WebhookInput = z.input<typeof webhookInputSchema>;

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string | undefined;
  enabled: boolean;
  declared: boolean;
  createdAt: number;
}

const view = (s: WebhookSubscriptionRecord): WebhookView => ({ id: s.id, url: s.url, events: s.events, description: s.description, enabled: s.enabled, declared: s.declared, createdAt: s.createdAt });

export interface WebhookServiceOptions {
  box: SecretBox;
  clock: Clock;
  audit: AuditLog;
  allowInsecureHttpUrls: boolean;
}

/**
 * Webhook subscriptions of a tenant. A subscription receives the directory changes made after it
 * was created, as signed POST requests (webhook-signature.ts), delivered by the dispatcher.
 * Its signing secret is generated, shown once, and stored only sealed.
 */
export class WebhookService {
  constructor(private readonly options: WebhookServiceOptions) {}

  private parse(raw: WebhookInput) {
    const parsed = webhookInputSchema.safeParse(raw);
    if (!parsed.success) throw new GatehouseError('webhook.invalid', formatZodError('', parsed.error));
    const input = parsed.data;
    if (new URL(input.url).protocol !== 'https:' && !this.options.allowInsecureHttpUrls) {
      throw new GatehouseError('webhook.insecure_url', 'a webhook URL must be https (webhooks.allowInsecureHttpUrls allows http for development)');
    }
    return input;
  }

  /** Creates a subscription; returns the secret once (the caller shows it and forgets it). */
  async add(store: TenantStore, raw: WebhookInput, actor: Actor, options: { declared?: boolean } = {}): Promise<{ webhook: WebhookView; secret: string }> {
    const input = this.parse(raw);
    const id = input.id ?? `wh-${randomId(6).toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
    const secret = input.secret ?? `whsec_${generateSecret()}`;
    return store.transaction(async (trx) => {
      if (await trx.webhooks.getSubscription(id)) throw new GatehouseError('webhook.exists', `a webhook "${id}" already exists`, { status: 409 });
      // Only changes from now on: the subscription starts at the feed's current end.
      const { lastSeq } = await trx.directoryChanges.bounds();
      const created = await trx.webhooks.insertSubscription({
        id,
        url: input.url,
        description: input.description,
        events: input.events,
        secretSealed: this.options.box.seal(secret, sealContext(store.tenantId, id)),
        enabled: true,
        declared: options.declared ?? false,
        enqueuedSeq: lastSeq,
      });
      await this.options.audit.record(trx, { actor, action: 'webhook.created', target: { type: 'webhook', id }, outcome: 'success', details: { url: input.url, events: input.events } });
      return { webhook: view(created), secret };
    });
  }

  /**
   * Applies a subscription declared in configuration: created when missing, its URL, events and
   * secret updated when they differ. Returns what happened.
   */
  async applyDeclared(store: TenantStore, raw: WebhookInput & { id: string; secret: string }, actor: Actor): Promise<'created' | 'updated' | 'unchanged'> {
    const input = this.parse(raw);
    const existing = await store.webhooks.getSubscription(raw.id);
    if (!existing) {
      await this.add(store, input, actor, { declared: true });
      return 'created';
    }
    const secretSame = this.options.box.openString(existing.secretSealed, sealContext(store.tenantId, existing.id)) === input.secret;
    if (existing.url === input.url && JSON.stringify(existing.events) === JSON.stringify(input.events) && existing.description === input.description && secretSame) return 'unchanged';
    await store.transaction(async (trx) => {
      await trx.webhooks.updateSubscription(existing.id, {
        url: input.url,
        events: input.events,
        description: input.description,
        ...(secretSame ? {} : { secretSealed: this.options.box.seal(input.secret!, sealContext(store.tenantId, existing.id)) }),
      });
      await this.options.audit.record(trx, { actor, action: 'webhook.updated', target: { type: 'webhook', id: existing.id }, outcome: 'success', details: { url: input.url, events: input.events } });
    });
    return 'updated';
  }

  async list(store: TenantStore): Promise<WebhookView[]> {
    return (await store.webhooks.listSubscriptions()).map(view);
  }

  async get(store: TenantStore, id: string): Promise<WebhookSubscriptionRecord> {
    const found = await store.webhooks.getSubscription(id);
    if (!found) throw notFound('webhook.not_found', `no webhook "${id}" in tenant "${store.tenantId}"`);
    return found;
  }

  /** The signing secret, for the dispatcher only. */
  secretOf(store: TenantStore, subscription: WebhookSubscriptionRecord): string {
    return this.options.box.openString(subscription.secretSealed, sealContext(store.tenantId, subscription.id));
  }

  async remove(store: TenantStore, id: string, actor: Actor): Promise<void> {
    await this.get(store, id);
    await store.transaction(async (trx) => {
      await trx.webhooks.deleteSubscription(id);
      await this.options.audit.record(trx, { actor, action: 'webhook.deleted', target: { type: 'webhook', id }, outcome: 'success' });
    });
  }

  async setEnabled(store: TenantStore, id: string, enabled: boolean, actor: Actor): Promise<void> {
    await this.get(store, id);
    await store.transaction(async (trx) => {
      await trx.webhooks.updateSubscription(id, { enabled });
      await this.options.audit.record(trx, { actor, action: enabled ? 'webhook.enabled' : 'webhook.disabled', target: { type: 'webhook', id }, outcome: 'success' });
    });
  }

  /** A new secret, shown once; the old one stops signing at once. */
  async rotateSecret(store: TenantStore, id: string, actor: Actor): Promise<string> {
    await this.get(store, id);
    const secret = `whsec_${generateSecret()}`;
    await store.transaction(async (trx) => {
      await trx.webhooks.updateSubscription(id, { secretSealed: this.options.box.seal(secret, sealContext(store.tenantId, id)) });
      await this.options.audit.record(trx, { actor, action: 'webhook.secret_rotated', target: { type: 'webhook', id }, outcome: 'success' });
    });
    return secret;
  }

  /** The delivery log, newest first, with each delivery's attempts. */
  async deliveries(store: TenantStore, id: string, options: { status?: DeliveryStatus; limit?: number } = {}): Promise<Array<WebhookDeliveryRecord & { attemptLog: WebhookAttemptRecord[] }>> {
    await this.get(store, id);
    const list = await store.webhooks.listDeliveries(id, options);
    const out = [];
    for (const d of list) out.push({ ...d, attemptLog: await store.webhooks.attempts(d.id) });
    return out;
  }

  /** Sends a given-up delivery again (its attempts count on). */
  async redeliver(store: TenantStore, deliveryId: string, actor: Actor): Promise<void> {
    const done = await store.transaction(async (trx) => {
      if (!(await trx.webhooks.retry(deliveryId))) return false;
      await this.options.audit.record(trx, { actor, action: 'webhook.redelivered', target: { type: 'webhook_delivery', id: deliveryId }, outcome: 'success' });
      return true;
    });
    if (!done) throw notFound('webhook.delivery_not_failed', `no failed delivery "${deliveryId}"`);
  }
}
