import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import { ASSERTION_XPATH, assertionXml, b64, createTestIdp, responseXml, signElement, type TestIdp } from '../helpers/saml-test-idp.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

/**
 * The request ids we sent and the replay cache live in the store, so they hold across server
 * processes: two Gatehouse servers (separate stores, connection pools, caches) on one database
 * behave as one. Run on PostgreSQL (the multi-process deployment) and on one SQLite file.
 */

function suite(name: string, database: () => Promise<{ url: string; drop(): Promise<void> }>) {
  let a: SamlHarness;
  let b: SamlHarness;
  let idp: TestIdp;
  let db: { url: string; drop(): Promise<void> };
  let keysDir: string;

  const unsolicited = (harness: SamlHarness, nameId: string) => {
    const urls = harness.gh.services.saml.urls('acme', 'partner');
    const now = Date.now();
    const assertion = assertionXml({ now, issuer: idp.entityId, nameId, recipient: urls.acs, audience: urls.entityId, inResponseTo: null });
    return b64(signElement(responseXml({ now, destination: urls.acs, issuer: idp.entityId, body: assertion }), ASSERTION_XPATH, idp.keys));
  };

  describeWhen({ ok: true }, name, () => {
    beforeAll(async () => {
      db = await database();
      keysDir = mkdtempSync(path.join(tmpdir(), 'gh-replay-keys-'));
      const overrides = { keys: { dir: keysDir, masterKey: randomBytes(32).toString('base64'), generateDevMasterKey: false, publishAheadSeconds: 3600 } };
      a = await startSamlHarness({ databaseUrl: db.url, overrides });
      b = await startSamlHarness({ databaseUrl: db.url, overrides });
      // Both servers must publish the same SP endpoints: the public URL is the first server's.
      (b.gh.services.config.server as { publicUrl: string }).publicUrl = a.gh.url;
      idp = createTestIdp();
      await a.gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
      const store = a.gh.services.store.forTenant('acme');
      await a.gh.services.clients.create(store, { clientId: 'portal', redirectUris: ['https://portal.example/cb'] }, OPERATOR);
      await a.gh.services.saml.create(store, { id: 'partner', displayName: 'Partner', idp: { metadataXml: idp.metadataXml() }, allowIdpInitiated: true, defaultApp: 'portal' }, OPERATOR);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
      rmSync(keysDir, { recursive: true, force: true });
    });

    it('refuses at server B an assertion already accepted by server A (replay cache in the store)', async () => {
      const response = unsolicited(a, 'replay-1');
      expect((await a.post('acme', 'partner', response)).status).toBe(200);
      const replay = await b.post('acme', 'partner', response);
      expect(replay.status).toBe(400);
      expect(await auditOf(b.gh, 'acme', 'saml.signin', replay.requestId)).toMatchObject({ reason: 'saml.assertion_replayed', details: { check: 'assertion.replay' } });
    });

    it('accepts at server B the answer to a request server A sent, once', async () => {
      const { requestId, relayState } = await a.begin('acme', 'partner');
      const urls = a.gh.services.saml.urls('acme', 'partner');
      const now = Date.now();
      const assertion = assertionXml({ now, issuer: idp.entityId, nameId: 'replay-2', recipient: urls.acs, audience: urls.entityId, inResponseTo: requestId });
      const response = b64(signElement(responseXml({ now, destination: urls.acs, inResponseTo: requestId, issuer: idp.entityId, body: assertion }), ASSERTION_XPATH, idp.keys));
      const completedAtA = a.signIns.length;
      const accepted = await b.post('acme', 'partner', response, relayState);
      expect(accepted.status).toBe(200);
      // Behind one public URL the continue hop may reach either server; here it reaches A, which
      // completes from the shared store what B validated.
      expect(a.signIns.slice(completedAtA)).toEqual([expect.objectContaining({ interactionUid: 'interaction-1' })]);
      const again = await a.post('acme', 'partner', response, relayState);
      expect(again.status).toBe(400);
      expect(await auditOf(a.gh, 'acme', 'saml.signin', again.requestId)).toMatchObject({ reason: 'saml.in_response_to_used' });
    });

    it('accepts exactly one of the same assertion posted to both servers at once', async () => {
      const response = unsolicited(a, 'replay-3');
      const results = await Promise.all([a.post('acme', 'partner', response), b.post('acme', 'partner', response), a.post('acme', 'partner', response), b.post('acme', 'partner', response)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
    });
  });
}

const pg = await postgresAvailable();
describeWhen(pg, 'SAML replay across two servers on one PostgreSQL database', () => {
  suite('PostgreSQL', async () => {
    const database: TestDatabase = await createTestDatabase();
    return database;
  });
});

suite('SAML replay across two servers on one SQLite file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-replay-sqlite-'));
  return { url: `sqlite:${path.join(dir, 'shared.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
});
