import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { directoryClient, scimClient } from '../helpers/directory-api.js';
import { runCli } from '../helpers/cli.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logging/logger.js';
import { linkExternalIdentity } from '../../src/directory/identity-linker.js';
import { WebhookDispatcher } from '../../src/directory/webhooks/webhook-dispatcher.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; tenant: string; change: { seq: number; object: { type: string; id: string }; kind: string; version: number; data?: Record<string, unknown> } };
}

/** A webhook receiver on the loopback: records every request; answers with the status `respond` picks. */
async function startReceiver() {
  const received: Received[] = [];
  let respond: (r: Received) => number = () => 200;
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const r: Received = { headers: req.headers, raw, body: JSON.parse(raw) };
      received.push(r);
      setTimeout(() => {
        res.statusCode = respond(r);
        res.end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    setResponder: (fn: (r: Received) => number) => (respond = fn),
    setDelay: (ms: number) => (delayMs = ms),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does with `Gatehouse-Signature: t=<time>,v1=<hex>`, written with node:crypto only. */
function verifySignature(secret: string, header: string, raw: string): { ok: boolean; t: number } {
  const fields = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(fields.t);
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  const given = Buffer.from(fields.v1 ?? '', 'hex');
  return { ok: given.length === expected.length && timingSafeEqual(given, expected), t };
}

describe('directory change feed and webhooks', () => {
  const clock = new ManualClock(Date.now());
  let gh: TestGatehouse;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let feedToken: string;
  let scimToken: string;
  const store = () => gh.services.store.forTenant('acme');
  const dispatcher = (owner: string) =>
    new WebhookDispatcher({ store: gh.services.store, webhooks: gh.services.webhooks, clock, logger: silentLogger(), config: gh.services.config.webhooks, allowPrivateNetworks: true, random: () => 0.5, owner });

  const feed = async (query: string, token = feedToken, tenant = 'acme') => {
    const res = await fetch(`${gh.issuer(tenant)}/directory/changes${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    gh = await startGatehouse({
      clock,
      overrides: { webhooks: { dispatcherEnabled: false, allowInsecureHttpUrls: true, retryBaseSeconds: 10, retryMaxSeconds: 40, maxAttempts: 4, requestTimeoutMs: 2000 } },
    });
    receiver = await startReceiver();
    for (const id of ['acme', 'other']) await gh.services.tenants.create({ id, displayName: id }, OPERATOR);
    feedToken = await (await directoryClient(gh, 'acme', 'feed-reader', ['directory:changes']))();
    scimToken = await (await directoryClient(gh, 'acme', 'provisioner', ['scim:write']))();
  });
  afterAll(async () => {
    await receiver?.close();
    await gh?.stop();
  });

  describe('the change feed', () => {
    it('records every writer\'s changes in order: the CLI\'s user service, sign-in linking and SCIM', async () => {
      await gh.services.users.create(store(), { username: 'alice', email: 'alice@acme.test', groups: ['staff'] }, OPERATOR);
      await linkExternalIdentity(store(), { source: 'ldap:corp', externalId: 'uuid-bob', username: 'bob', groups: [{ externalId: 'cn=eng', name: 'eng' }], roles: [], authentication: { amr: ['pwd'] } });
      // The same sign-in again changes nothing and records nothing.
      await linkExternalIdentity(store(), { source: 'ldap:corp', externalId: 'uuid-bob', username: 'bob', groups: [{ externalId: 'cn=eng', name: 'eng' }], roles: [], authentication: { amr: ['pwd'] } });
      const scim = scimClient(gh, 'acme', () => scimToken);
      const carol = await scim('POST', '/Users', { schemas: [USER], userName: 'carol' });
      await scim('PATCH', `/Users/${carol.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
      await gh.services.users.setStatus(store(), 'alice', 'disabled', OPERATOR);

      const page = await feed('');
      expect(page.status).toBe(200);
      const summary = page.body.changes.map((c: any) => [c.seq, c.type, c.via, c.version]);
      expect(summary).toEqual([
        [1, 'user.created', 'cli', 1],
        [2, 'group.created', 'cli', 1],
        [3, 'group.member_added', 'cli', 2],
        [4, 'user.created', 'sign-in', 1],
        [5, 'group.created', 'sign-in', 1],
        [6, 'group.member_added', 'sign-in', 2],
        [7, 'user.created', 'scim', 1],
        [8, 'user.updated', 'scim', 2],
        [9, 'user.updated', 'cli', 2],
      ]);
      const scimUpdate = page.body.changes[7];
      expect(scimUpdate).toMatchObject({ object: { type: 'user', id: carol.body.id }, kind: 'updated', changed: ['status'], actor: { type: 'client', id: 'provisioner' }, data: { username: 'carol', status: 'disabled' } });
      expect(page.body.changes[2].data).toEqual({ member: { type: 'user', id: page.body.changes[0].object.id } });
      expect(JSON.stringify(page.body)).not.toContain('password');
      expect(page.body.hasMore).toBe(false);
      expect(page.body.next).toBe(page.body.latest);
    });

    it('pages with opaque cursors and resumes after the last one seen', async () => {
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await feed(`?limit=4${cursor ? `&after=${cursor}` : ''}`);
        seen.push(...page.body.changes.map((c: any) => c.seq));
        cursor = page.body.next;
        if (!page.body.hasMore) break;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Caught up: the same cursor returns nothing, until something happens.
      expect((await feed(`?after=${cursor}`)).body).toMatchObject({ changes: [], next: cursor, hasMore: false });
      await gh.services.users.addToGroup(store(), 'bob', 'staff', OPERATOR);
      const resumed = await feed(`?after=${cursor}`);
      expect(resumed.body.changes.map((c: any) => [c.seq, c.type])).toEqual([[10, 'group.member_added']]);
      expect(resumed.body.next).not.toBe(cursor);
    });

    it('refuses bad cursors and limits, other scopes and other tenants', async () => {
      expect((await feed('?after=bm9wZQ')).body).toMatchObject({ error: 'directory.invalid_cursor' });
      expect((await feed('?limit=0')).status).toBe(400);
      expect((await feed('?limit=abc')).status).toBe(400);
      const anonymous = await fetch(`${gh.issuer('acme')}/directory/changes`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const wrongScope = await feed('', scimToken);
      expect(wrongScope.status).toBe(403);
      expect(wrongScope.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
      const otherToken = await (await directoryClient(gh, 'other', 'feed-reader', ['directory:changes']))();
      expect((await feed('', otherToken)).status).toBe(401);
      expect((await feed('', otherToken, 'other')).body.changes).toEqual([]);
    });
  });

  describe('webhooks', () => {
    let secret: string;
    const deliveredOf = (objectId: string) => receiver.received.filter((r) => r.body.change.object.id === objectId && r.headers['gatehouse-delivery-attempt']);

    it('delivers new changes signed with HMAC-SHA256 over the timestamp and the body', async () => {
      ({ secret } = await gh.services.webhooks.add(store(), { id: 'crm', url: receiver.url, events: ['user.*', 'group.member_added'] }, OPERATOR));
      const dave = await gh.services.users.create(store(), { username: 'dave', groups: ['staff'] }, OPERATOR);
      await dispatcher('one').runOnce();
      // The group existed: user.created and group.member_added match the filter.
      expect(receiver.received.map((r) => r.body.type)).toEqual(['user.created', 'group.member_added']);
      const first = receiver.received[0]!;
      const { ok, t } = verifySignature(secret, first.headers['gatehouse-signature'] as string, first.raw);
      expect(ok).toBe(true);
      expect(t).toBe(Math.floor(clock.now() / 1000));
      expect(verifySignature('whsec_wrong', first.headers['gatehouse-signature'] as string, first.raw).ok).toBe(false);
      expect(verifySignature(secret, first.headers['gatehouse-signature'] as string, first.raw.replace('dave', 'evil')).ok).toBe(false);
      expect(first.headers).toMatchObject({ 'content-type': 'application/json', 'gatehouse-event-type': 'user.created', 'gatehouse-event-id': `acme.${first.body.change.seq}` });
      expect(first.body).toMatchObject({ id: `acme.${first.body.change.seq}`, tenant: 'acme', change: { object: { type: 'user', id: dave.id }, kind: 'created', version: 1 } });
      // Nothing is delivered twice.
      await dispatcher('one').runOnce();
      expect(receiver.received).toHaveLength(2);
    });

    it('retries a failing delivery with capped exponential back-off, holding later changes of the same object until it succeeds', async () => {
      receiver.received.length = 0;
      const u1 = await gh.services.users.create(store(), { username: 'erin' }, OPERATOR);
      const u2 = await gh.services.users.create(store(), { username: 'frank' }, OPERATOR);
      let failures = 2;
      receiver.setResponder((r) => (r.body.change.object.id === u1.id && failures-- > 0 ? 500 : 200));
      const d = dispatcher('one');
      await d.runOnce();
      // erin's creation failed, frank's went through (another object is not held up).
      expect(receiver.received.map((r) => [r.body.change.object.id, r.body.type])).toEqual([
        [u1.id, 'user.created'],
        [u2.id, 'user.created'],
      ]);
      await gh.services.users.setStatus(store(), 'erin', 'disabled', OPERATOR);
      const log = async () => (await gh.services.webhooks.deliveries(store(), 'crm', { limit: 50 })).filter((x) => x.payload.includes(u1.id));
      const [creation] = (await log()).filter((x) => x.eventType === 'user.created');
      // Attempt 1 failed: the next one is due 10 s * 2^0 = 10 s nominal, half of it jitter (pinned at 0.5): 7.5 s.
      expect(creation).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'http_500', nextAttemptAt: clock.now() + 7500 });
      await d.runOnce();
      expect(deliveredOf(u1.id)).toHaveLength(1);
      clock.advance(7499);
      await d.runOnce();
      expect(deliveredOf(u1.id)).toHaveLength(1);
      clock.advance(1);
      await d.runOnce();
      // Attempt 2 failed too; the disabling waits behind it. Next delay: 20 s nominal -> 15 s.
      expect(deliveredOf(u1.id).map((r) => r.body.type)).toEqual(['user.created', 'user.created']);
      expect((await log()).find((x) => x.eventType === 'user.created')).toMatchObject({ attempts: 2, nextAttemptAt: clock.now() + 15000 });
      clock.advance(15000);
      await d.runOnce();
      await d.runOnce();
      expect(deliveredOf(u1.id).map((r) => [r.body.type, r.headers['gatehouse-delivery-attempt']])).toEqual([
        ['user.created', '1'],
        ['user.created', '2'],
        ['user.created', '3'],
        ['user.updated', '1'],
      ]);
      const final = await log();
      expect(final.map((x) => [x.eventType, x.status, x.attempts])).toEqual([
        ['user.updated', 'delivered', 1],
        ['user.created', 'delivered', 3],
      ]);
      expect(final[1]!.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    });

    it('gives a delivery up after the last attempt and lets the object\'s later changes go', async () => {
      receiver.received.length = 0;
      const g = await gh.services.users.create(store(), { username: 'gina' }, OPERATOR);
      receiver.setResponder((r) => (r.body.change.object.id === g.id && r.body.type === 'user.created' ? 503 : 200));
      await gh.services.users.setStatus(store(), 'gina', 'disabled', OPERATOR);
      const d = dispatcher('one');
      for (let i = 0; i < 6; i++) {
        await d.runOnce();
        clock.advance(40_000); // the cap
      }
      const log = (await gh.services.webhooks.deliveries(store(), 'crm')).filter((x) => x.payload.includes(g.id));
      expect(log.map((x) => [x.eventType, x.status, x.attempts])).toEqual([
        ['user.updated', 'delivered', 1],
        ['user.created', 'failed', 4],
      ]);
      expect(log[1]!.attemptLog.map((a) => a.statusCode)).toEqual([503, 503, 503, 503]);
      receiver.setResponder(() => 200);
    });

    it('does not deliver twice when two dispatchers run at once', async () => {
      receiver.received.length = 0;
      receiver.setDelay(30);
      for (let i = 0; i < 12; i++) await gh.services.users.create(store(), { username: `bulk${i}` }, OPERATOR);
      const a = dispatcher('process-a');
      const b = dispatcher('process-b');
      await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
      await Promise.all([a.runOnce(), b.runOnce()]);
      receiver.setDelay(0);
      const ids = receiver.received.map((r) => r.body.id);
      expect(ids).toHaveLength(12);
      expect(new Set(ids).size).toBe(12);
    });

    it('is managed with the CLI: add (secret shown once), list, delivery log', async () => {
      const env = { DATABASE_URL: `sqlite:${path.join(gh.dir, 'gatehouse.db')}`, GATEHOUSE_KEYS_DIR: path.join(gh.dir, 'keys'), LOG_LEVEL: 'silent' };
      const added = await runCli(['webhook', 'add', 'acme', 'https://hooks.example.test/gatehouse', '--id', 'audit-sink', '--event', 'group.*', '--json'], { env });
      expect(added.code).toBe(0);
      expect(added.json()).toMatchObject({ id: 'audit-sink', events: ['group.*'], secret: expect.stringMatching(/^whsec_/) });
      const sealed = (await store().webhooks.getSubscription('audit-sink'))!.secretSealed;
      expect(sealed).not.toContain(added.json().secret);
      const deliveries = await runCli(['webhook', 'deliveries', 'acme', 'crm', '--status', 'failed', '--json'], { env });
      expect(deliveries.code).toBe(0);
      expect(deliveries.json()[0]).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 503, attemptLog: [{ attempt: 1, statusCode: 503 }, expect.anything(), expect.anything(), expect.anything()] });
      const refused = await runCli(['webhook', 'add', 'acme', 'http://plain.example.test/x'], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('https');
    });
  });

  it('answers 410 for a cursor older than the changes still kept', async () => {
    const first = await feed('?limit=1');
    const old = first.body.next;
    await gh.services.store.purgeExpired({ directoryChangesBefore: clock.now() + 1 });
    const expired = await feed(`?after=${old}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ error: 'directory.cursor_expired' });
    // From the latest cursor a consumer goes on as before.
    const latest = (await feed('')).body.latest;
    await gh.services.users.create(store(), { username: 'late' }, OPERATOR);
    expect((await feed(`?after=${latest}`)).body.changes.map((c: any) => c.type)).toEqual(['user.created']);
  });
});
