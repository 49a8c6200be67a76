import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { ManualClock } from '../../src/clock.js';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import { ASSERTION_XPATH, assertionXml, b64, createTestIdp, opensslKeyPair, responseXml, signElement, type KeyPair, type TestIdp } from '../helpers/saml-test-idp.js';
import { runCli } from '../helpers/cli.js';
import { applyDeclarations } from '../../src/config/apply-declarations.js';
import { declaredTenantSchema } from '../../src/config/schema.js';
import { SamlConnectorSource } from '../../src/connectors/saml/saml-connector-source.js';
import { parseXml, children, attr } from '../../src/connectors/saml/saml-xml.js';
import { NS } from '../../src/connectors/saml/saml-constants.js';

/**
 * SAML connections as administrators manage them: partner metadata from a URL, refreshed on a
 * schedule through a certificate rollover; Gatehouse's own metadata and sealed keys; email
 * domains; declarative configuration; the CLI.
 */

const T = 'acme';
const START = Date.UTC(2031, 2, 1, 9, 0, 0);
const clock = new ManualClock(START);
let h: SamlHarness;
let idp: TestIdp;
let newKey: KeyPair;
let metadataServer: Server;
let served: { status: number; body: string };
let metadataUrl: string;

async function signInSignedWith(connection: string, keys: KeyPair) {
  const { requestId, relayState } = await h.begin(T, connection);
  const urls = h.gh.services.saml.urls(T, connection);
  const now = clock.now();
  const assertion = assertionXml({ now, issuer: idp.entityId, nameId: 'roll-1', recipient: urls.acs, audience: urls.entityId, inResponseTo: requestId });
  const xml = signElement(responseXml({ now, destination: urls.acs, inResponseTo: requestId, issuer: idp.entityId, body: assertion }), ASSERTION_XPATH, keys);
  return h.post(T, connection, b64(xml), relayState);
}

const revision = async () => (await h.gh.services.store.forTenant(T).tenant())!.revision;

beforeAll(async () => {
  h = await startSamlHarness({ clock });
  idp = createTestIdp();
  newKey = opensslKeyPair('test-idp-next');
  served = { status: 200, body: idp.metadataXml() };
  metadataServer = createServer((_req, res) => {
    res.writeHead(served.status, { 'content-type': 'application/samlmetadata+xml' });
    res.end(served.body);
  });
  await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
  metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/idp/metadata`;
  await h.gh.services.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
  await h.gh.services.tenants.create({ id: 'beta', displayName: 'Beta' }, OPERATOR);
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => metadataServer?.close(resolve));
});

describe('partner metadata from a URL, refreshed on a schedule', () => {
  it('imports the partner from its metadata URL and signs people in with its certificate', async () => {
    const store = h.gh.services.store.forTenant(T);
    const created = await h.gh.services.saml.create(store, { id: 'by-url', displayName: 'By URL', idp: { metadataUrl, metadataRefreshSeconds: 3600 } }, OPERATOR);
    expect(created.idp).toMatchObject({ entityId: idp.entityId, source: 'metadata-url', metadataFetchedAt: START, sso: [{ binding: 'redirect', url: idp.ssoUrl }, { binding: 'post', url: idp.ssoUrl }] });
    expect(created.metadataRefreshAt).toBe(START + 3600_000);
    expect((await signInSignedWith('by-url', idp.keys)).status).toBe(200);
  });

  it('trusts both certificates while the partner publishes two (rollover), then only the new one', async () => {
    const store = h.gh.services.store.forTenant(T);
    expect((await signInSignedWith('by-url', newKey)).status).toBe(400);

    served = { status: 200, body: idp.metadataXml([newKey.cert]) };
    clock.advance(3600_000);
    const before = await revision();
    expect(await h.gh.services.saml.refreshDueMetadata(h.gh.services.store)).toEqual({ refreshed: 1, failed: 0 });
    expect(await revision()).toBe(before + 1);
    expect((await signInSignedWith('by-url', idp.keys)).status).toBe(200);
    expect((await signInSignedWith('by-url', newKey)).status).toBe(200);
    const events = await store.audit.list({ action: 'saml.metadata_refreshed' });
    expect(events[0]).toMatchObject({ outcome: 'success', details: { certificatesAdded: [new X509Certificate(newKey.cert).fingerprint256], certificatesRemoved: [] } });

    served = { status: 200, body: createTestIdp({ entityId: idp.entityId, keys: newKey }).metadataXml() };
    clock.advance(3600_000);
    await h.gh.services.saml.refreshDueMetadata(h.gh.services.store);
    const old = await signInSignedWith('by-url', idp.keys);
    expect(old.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', old.requestId)).toMatchObject({ reason: 'saml.signature_invalid' });
    expect((await signInSignedWith('by-url', newKey)).status).toBe(200);
  });

  it('nothing is due before the interval, and an unchanged document changes nothing', async () => {
    expect(await h.gh.services.saml.refreshDueMetadata(h.gh.services.store)).toEqual({ refreshed: 0, failed: 0 });
    clock.advance(3600_000);
    const before = await revision();
    expect(await h.gh.services.saml.refreshDueMetadata(h.gh.services.store)).toEqual({ refreshed: 1, failed: 0 });
    expect(await revision()).toBe(before);
  });

  it('keeps the partner as it was when its metadata server fails, audits the failure and retries within 15 minutes', async () => {
    const store = h.gh.services.store.forTenant(T);
    served = { status: 503, body: 'down' };
    clock.advance(3600_000);
    expect(await h.gh.services.saml.refreshDueMetadata(h.gh.services.store)).toEqual({ refreshed: 0, failed: 1 });
    const connection = await h.gh.services.saml.get(store, 'by-url');
    expect(connection.idp.metadataError).toContain('HTTP 503');
    expect(connection.metadataRefreshAt).toBe(clock.now() + 15 * 60_000);
    expect((await store.audit.list({ action: 'saml.metadata_refresh_failed' }))[0]).toMatchObject({ outcome: 'failure', reason: 'saml.metadata_unreachable' });
    expect((await signInSignedWith('by-url', newKey)).status).toBe(200);
    served = { status: 200, body: 'not metadata' };
    clock.advance(15 * 60_000);
    expect(await h.gh.services.saml.refreshDueMetadata(h.gh.services.store)).toEqual({ refreshed: 0, failed: 1 });
    expect((await h.gh.services.saml.get(store, 'by-url')).idp.signingCertificates).toHaveLength(1);
  });

  it('refuses to create a connection from metadata that cannot be fetched, or from plain-http metadata off loopback', async () => {
    const store = h.gh.services.store.forTenant(T);
    await expect(h.gh.services.saml.create(store, { id: 'down', displayName: 'Down', idp: { metadataUrl } }, OPERATOR)).rejects.toMatchObject({ code: 'saml.metadata_invalid' });
    await expect(h.gh.services.saml.create(store, { id: 'plain', displayName: 'Plain', idp: { metadataUrl: 'http://idp.example/metadata' } }, OPERATOR)).rejects.toMatchObject({
      code: 'saml.invalid',
      message: expect.stringContaining('https'),
    });
  });
});

describe('Gatehouse as the service provider of a connection', () => {
  it('publishes its metadata at a stable URL per connection: entity id, ACS, SLO (both bindings), signing and encryption certificates', async () => {
    const store = h.gh.services.store.forTenant(T);
    const connection = await h.gh.services.saml.create(store, { id: 'sp-meta', displayName: 'SP metadata', idp: { metadataXml: idp.metadataXml() }, nameIdFormat: 'emailAddress' }, OPERATOR);
    const urls = h.gh.services.saml.urls(T, 'sp-meta');
    const res = await fetch(urls.metadata);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const text = await res.text();
    expect(text).not.toContain('PRIVATE');
    const doc = parseXml(text);
    const root = doc.documentElement!;
    expect(attr(root, 'entityID')).toBe(urls.entityId);
    expect(urls.entityId).toBe(`${h.gh.url}/t/acme/saml/sp-meta/metadata`);
    const sp = children(root, NS.metadata, 'SPSSODescriptor')[0]!;
    expect(attr(sp, 'AuthnRequestsSigned')).toBe('true');
    const acs = children(sp, NS.metadata, 'AssertionConsumerService');
    expect(acs.map((e) => [attr(e, 'Binding'), attr(e, 'Location')])).toEqual([['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', urls.acs]]);
    const slo = children(sp, NS.metadata, 'SingleLogoutService').map((e) => attr(e, 'Binding')!.split(':').pop());
    expect(slo).toEqual(['HTTP-Redirect', 'HTTP-POST']);
    expect(children(sp, NS.metadata, 'NameIDFormat')[0]!.textContent).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    const keys = children(sp, NS.metadata, 'KeyDescriptor').map((k) => [attr(k, 'use'), k.getElementsByTagNameNS(NS.dsig, 'X509Certificate')[0]!.textContent]);
    const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(keys).toEqual([
      ['signing', body(connection.spCertificates.signing)],
      ['encryption', body(connection.spCertificates.encryption)],
    ]);
    expect((await fetch(`${h.gh.url}/t/beta/saml/sp-meta/metadata`)).status).toBe(404);
  });

  it('stores the connection\'s private keys sealed, bound to the tenant and the connection', async () => {
    const db = new BetterSqlite3(path.join(h.gh.dir, 'gatehouse.db'), { readonly: true });
    const row = db.prepare("select sp_keys_sealed from saml_connections where tenant_id = 'acme' and id = 'sp-meta'").get() as { sp_keys_sealed: string };
    db.close();
    expect(row.sp_keys_sealed).toMatch(/^v1\./);
    expect(row.sp_keys_sealed).not.toContain('PRIVATE');
    const connection = await h.gh.services.saml.get(h.gh.services.store.forTenant(T), 'sp-meta');
    expect(h.gh.services.saml.openKeys(T, connection).signing).toContain('BEGIN PRIVATE KEY');
    expect(() => h.gh.services.saml.openKeys('beta', connection)).toThrow(expect.objectContaining({ code: 'crypto.unseal_failed' }));
    expect(() => h.gh.services.saml.openKeys(T, { ...connection, id: 'by-url' })).toThrow(expect.objectContaining({ code: 'crypto.unseal_failed' }));
  });
});

describe('email domains and the connector list', () => {
  it('offers enabled, ready connections with their domains; a domain belongs to one connection; a disabled connection refuses sign-ins', async () => {
    const s = h.gh.services;
    const store = s.store.forTenant(T);
    await s.saml.create(store, { id: 'domains', displayName: 'Partner Inc', idp: { metadataXml: idp.metadataXml() }, domains: ['Partner.Example', 'partner.example', 'sub.partner.example'] }, OPERATOR);
    await expect(s.saml.create(store, { id: 'clash', displayName: 'Clash', idp: { metadataXml: idp.metadataXml() }, domains: ['partner.example'] }, OPERATOR)).rejects.toMatchObject({
      code: 'saml.domain_claimed',
      status: 409,
    });
    const source = new SamlConnectorSource(s.saml, s.clock, 600);
    const offered = await source.connectorsFor((await store.tenant())!, store);
    expect(offered.find((c) => c.id === 'domains')).toMatchObject({ kind: 'redirect', displayName: 'Partner Inc', domains: ['partner.example', 'sub.partner.example'] });
    await s.saml.update(store, 'domains', { enabled: false }, OPERATOR);
    const after = await source.connectorsFor((await store.tenant())!, store);
    expect(after.map((c) => c.id)).not.toContain('domains');
    expect((await store.audit.list({ action: 'saml.connection_updated' }))[0]).toMatchObject({ details: { changed: ['enabled'] } });
    const res = await fetch(`${h.gh.url}/t/${T}/saml/domains/acs`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'SAMLResponse=x' });
    expect(res.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', res.headers.get('x-request-id')!)).toMatchObject({ reason: 'saml.connection_not_ready' });
  });

  it('bumps the tenant revision and audits every change; removal too', async () => {
    const s = h.gh.services;
    const store = s.store.forTenant(T);
    const before = await revision();
    await s.saml.update(store, 'domains', { displayName: 'Partner Incorporated' }, OPERATOR);
    expect(await revision()).toBe(before + 1);
    await s.saml.remove(store, 'domains', OPERATOR);
    expect(await revision()).toBe(before + 2);
    expect((await store.audit.list({ action: 'saml.connection_deleted' }))[0]).toMatchObject({ targetId: 'domains', actorId: 'test' });
    await expect(s.saml.get(store, 'domains')).rejects.toMatchObject({ code: 'saml.not_found', status: 404 });
  });
});

describe('declared in configuration', () => {
  it('creates, leaves alone when unchanged, updates when changed, and refuses edits outside the configuration', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-saml-decl-'));
    try {
      const file = path.join(dir, 'partner-idp.xml');
      writeFileSync(file, idp.metadataXml());
      const declare = (displayName: string) =>
        declaredTenantSchema.parse({ id: T, displayName: 'Acme', samlConnections: [{ id: 'declared', displayName, idp: { metadataFile: file }, domains: ['declared.example'] }] });
      const first = await applyDeclarations(h.gh.services, [declare('Declared partner')]);
      expect(first[0]!.changes).toEqual(['saml connection declared created']);
      const before = await revision();
      expect((await applyDeclarations(h.gh.services, [declare('Declared partner')]))[0]!.changes).toEqual([]);
      expect(await revision()).toBe(before);
      expect((await applyDeclarations(h.gh.services, [declare('Declared partner (renamed)')]))[0]!.changes).toEqual(['saml connection declared updated']);
      const store = h.gh.services.store.forTenant(T);
      expect(await h.gh.services.saml.get(store, 'declared')).toMatchObject({ displayName: 'Declared partner (renamed)', declared: true, idp: { entityId: idp.entityId, source: 'metadata-xml' } });
      await expect(h.gh.services.saml.update(store, 'declared', { displayName: 'x' }, OPERATOR)).rejects.toMatchObject({ code: 'saml.declared' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gatehouse saml (the real CLI)', () => {
  it('adds from a metadata file, prints SP metadata, updates and removes; refuses bad input with exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-saml-cli-'));
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent', PUBLIC_URL: 'https://id.example.com' };
    const cli = (...args: string[]) => runCli(args, { env });
    try {
      const file = path.join(dir, 'idp.xml');
      writeFileSync(file, idp.metadataXml());
      expect((await cli('tenant', 'create', 'acme', '--name', 'Acme')).code).toBe(0);
      const added = await cli('saml', 'add', 'acme', 'partner', '--name', 'Partner', '--metadata-file', file, '--domain', 'partner.example', '--trust-partner-mfa', '--json');
      expect(added.code).toBe(0);
      expect(added.json()).toMatchObject({
        id: 'partner',
        partner: { entityId: idp.entityId, source: 'metadata-xml', signingCertificates: [new X509Certificate(idp.keys.cert).fingerprint256] },
        serviceProvider: { entityId: 'https://id.example.com/t/acme/saml/partner/metadata', acs: 'https://id.example.com/t/acme/saml/partner/acs' },
        settings: { domains: ['partner.example'], trustPartnerMfa: true },
      });
      expect(added.stdout).not.toContain('PRIVATE');
      const metadata = await cli('saml', 'metadata', 'acme', 'partner');
      expect(metadata.code).toBe(0);
      expect(metadata.stdout).toContain('entityID="https://id.example.com/t/acme/saml/partner/metadata"');
      const updated = await cli('saml', 'update', 'acme', 'partner', '--disable', '--settings', '{"provisioning":{"mode":"link","linkBy":"email"}}', '--json');
      expect(updated.json()).toMatchObject({ enabled: false, settings: { provisioning: { mode: 'link', linkBy: 'email' } } });
      const bad = await cli('saml', 'update', 'acme', 'partner', '--settings', '{"provisioning":{"mode":"link"}}');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('provisioning.linkBy');
      const removed = await cli('saml', 'remove', 'acme', 'partner', '--json');
      expect(removed.json()).toEqual({ removed: 'partner' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
