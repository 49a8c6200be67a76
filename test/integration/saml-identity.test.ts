import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSamlHarness, auditOf, OPERATOR, type SamlHarness } from '../helpers/saml-harness.js';
import { ASSERTION_XPATH, SAML, assertionXml, b64, createTestIdp, responseXml, signElement, type AssertionOptions, type TestIdp } from '../helpers/saml-test-idp.js';
import { hashPassword } from '../../src/crypto/passwords.js';

/**
 * What a SAML sign-in becomes: the normalised identity handed to the sign-in flow, and the user
 * of the tenant directory (created just in time, or linked to an existing user by an attribute).
 */

const T = 'acme';
let h: SamlHarness;
let idp: TestIdp;

async function signIn(connection: string, over: Partial<AssertionOptions> = {}) {
  const { requestId, relayState } = await h.begin(T, connection);
  const urls = h.gh.services.saml.urls(T, connection);
  const now = h.gh.services.clock.now();
  const assertion = assertionXml({ now, issuer: idp.entityId, nameId: 'p-1001', recipient: urls.acs, audience: urls.entityId, inResponseTo: requestId, ...over });
  const xml = signElement(responseXml({ now, destination: urls.acs, inResponseTo: requestId, issuer: idp.entityId, body: assertion }), ASSERTION_XPATH, { key: idp.keys.key, cert: idp.keys.cert });
  return h.post(T, connection, b64(xml), relayState);
}

beforeAll(async () => {
  h = await startSamlHarness();
  idp = createTestIdp();
  const s = h.gh.services;
  await s.tenants.create({ id: T, displayName: 'Acme' }, OPERATOR);
  const store = s.store.forTenant(T);
  const idpInput = { metadataXml: idp.metadataXml() };
  await s.saml.create(store, { id: 'partner', displayName: 'Partner', idp: idpInput, claims: { department: 'department' }, roleMapping: { admins: ['tenant-admin'] } }, OPERATOR);
  await s.saml.create(store, { id: 'transient', displayName: 'Transient', idp: idpInput, nameIdFormat: 'transient', attributes: { externalId: 'uid' } }, OPERATOR);
  await s.saml.create(store, { id: 'mfa', displayName: 'Trusted MFA', idp: idpInput, trustPartnerMfa: true }, OPERATOR);
  await s.saml.create(store, { id: 'link', displayName: 'Linked', idp: idpInput, provisioning: { mode: 'link', linkBy: 'email' } }, OPERATOR);
  await s.saml.create(store, { id: 'link-or-jit', displayName: 'Linked or JIT', idp: idpInput, provisioning: { mode: 'link-or-jit', linkBy: 'email' } }, OPERATOR);
  await store.users.insert({
    id: 'local-bob',
    username: 'bob',
    email: 'bob@acme.example',
    emailVerified: true,
    givenName: 'Bob',
    familyName: 'Local',
    displayName: 'Bob Local',
    phone: undefined,
    address: undefined,
    status: 'active',
    passwordHash: await hashPassword('BobPass1!'),
    source: 'local',
    externalId: undefined,
    attributes: {},
  });
});
afterAll(async () => h?.close());

describe('SAML identity: attributes, NameID formats, just-in-time users', () => {
  it('maps attributes to the profile, groups and roles, keeps the class ref, and creates the user marked with the connection', async () => {
    const result = await signIn('partner', {
      attributes: { mail: ['Carol@Partner.example'], givenName: ['Carol'], sn: ['Müller'], displayName: ['Carol Müller'], groups: ['staff', 'admins'], department: ['R&D'] },
    });
    expect(result.status).toBe(200);
    const { identity, user } = result.signIn!;
    expect(identity).toMatchObject({
      source: 'saml:partner',
      externalId: 'p-1001',
      username: 'Carol@Partner.example',
      email: 'Carol@Partner.example',
      emailVerified: false,
      givenName: 'Carol',
      familyName: 'Müller',
      displayName: 'Carol Müller',
      groups: [
        { externalId: 'staff', name: 'staff' },
        { externalId: 'admins', name: 'admins' },
      ],
      roles: ['tenant-admin'],
      authentication: { amr: ['pwd'], classRef: SAML.passwordProtectedTransport, multiFactor: false },
      attributes: { department: 'R&D', samlNameIdFormat: 'persistent' },
    });
    expect(user).toMatchObject({ source: 'saml:partner', externalId: 'p-1001', email: 'carol@partner.example', status: 'active' });
    const groups = await h.gh.services.store.forTenant(T).groups.effectiveGroupsOfUser(user.id);
    expect(groups.map((g) => g.name).sort()).toEqual(['admins', 'staff']);
    expect(await auditOf(h.gh, T, 'saml.signin', result.requestId)).toMatchObject({ outcome: 'success', details: { userCreated: true } });
  });

  it('finds the same user at the next sign-in (by the persistent NameID) and refreshes its profile and groups', async () => {
    const first = await signIn('partner', { attributes: { mail: ['dan@partner.example'], groups: ['a', 'b'] }, nameId: 'p-2002' });
    const second = await signIn('partner', { attributes: { mail: ['daniel@partner.example'], groups: ['b'] }, nameId: 'p-2002' });
    expect(second.signIn!.user.id).toBe(first.signIn!.user.id);
    expect(second.signIn!.user.email).toBe('daniel@partner.example');
    const groups = await h.gh.services.store.forTenant(T).groups.effectiveGroupsOfUser(first.signIn!.user.id);
    expect(groups.map((g) => g.name)).toEqual(['b']);
    expect(await auditOf(h.gh, T, 'saml.signin', second.requestId)).toMatchObject({ details: { userCreated: false } });
  });

  it('uses an emailAddress NameID as the email when no attribute gives one', async () => {
    const result = await signIn('partner', { nameId: 'erin@partner.example', nameIdFormat: SAML.emailAddress, attributes: {} });
    expect(result.signIn!.identity).toMatchObject({ externalId: 'erin@partner.example', email: 'erin@partner.example', attributes: { samlNameIdFormat: 'emailAddress' } });
  });

  it('uses an unspecified NameID as it is', async () => {
    const result = await signIn('partner', { nameId: 'DOMAIN\\frank', nameIdFormat: SAML.unspecified, attributes: {} });
    expect(result.signIn!.identity).toMatchObject({ externalId: 'DOMAIN\\frank', username: 'DOMAIN\\frank', attributes: { samlNameIdFormat: 'unspecified' } });
  });

  it('identifies a transient NameID by the mapped attribute, so the same person is the same user', async () => {
    const one = await signIn('transient', { nameId: '_t1', nameIdFormat: SAML.transient, attributes: { uid: ['gina'] } });
    const two = await signIn('transient', { nameId: '_t2', nameIdFormat: SAML.transient, attributes: { uid: ['gina'] } });
    expect(one.signIn!.identity.externalId).toBe('gina');
    expect(two.signIn!.user.id).toBe(one.signIn!.user.id);
  });

  it('refuses a transient NameID on a connection that maps no stable attribute', async () => {
    const result = await signIn('partner', { nameId: '_t3', nameIdFormat: SAML.transient });
    expect(result.status).toBe(400);
    expect(await auditOf(h.gh, T, 'saml.signin', result.requestId)).toMatchObject({ reason: 'saml.subject_invalid', details: { check: 'identity.map' } });
  });
});

describe('SAML identity: the partner\'s MFA', () => {
  it('marks the sign-in multi-factor when the connection trusts the partner\'s MFA for that class', async () => {
    const result = await signIn('mfa', { nameId: 'm-1', classRef: 'https://refeds.org/profile/mfa' });
    expect(result.signIn!.identity.authentication).toEqual({ amr: ['mfa'], classRef: 'https://refeds.org/profile/mfa', multiFactor: true });
  });

  it('does not for a password class, nor on a connection that does not trust the partner (the class ref is kept)', async () => {
    const password = await signIn('mfa', { nameId: 'm-2' });
    expect(password.signIn!.identity.authentication).toMatchObject({ multiFactor: false, amr: ['pwd'] });
    const untrusted = await signIn('partner', { nameId: 'm-3', classRef: 'https://refeds.org/profile/mfa' });
    expect(untrusted.signIn!.identity.authentication).toEqual({ amr: [], classRef: 'https://refeds.org/profile/mfa', multiFactor: false });
  });
});

describe('SAML identity: linking to an existing user by a chosen attribute', () => {
  it('links to the local user with the same email, keeps its profile and records the link', async () => {
    const result = await signIn('link', { nameId: 'bob-at-partner', attributes: { mail: ['bob@acme.example'], givenName: ['Robert'], groups: ['partner-staff'] } });
    expect(result.status).toBe(200);
    const user = result.signIn!.user;
    expect(user).toMatchObject({ id: 'local-bob', source: 'local', givenName: 'Bob', attributes: { externalLinks: { 'saml:link': 'bob-at-partner' } } });
    const groups = await h.gh.services.store.forTenant(T).groups.effectiveGroupsOfUser('local-bob');
    expect(groups.map((g) => g.name)).toEqual(['partner-staff']);
    expect(await auditOf(h.gh, T, 'saml.signin', result.requestId)).toMatchObject({ details: { linked: true, userCreated: false } });
    const again = await signIn('link', { nameId: 'bob-at-partner', attributes: { mail: ['bob@acme.example'] } });
    expect(again.signIn!.user.id).toBe('local-bob');
  });

  it('refuses another partner identity claiming the already linked email', async () => {
    const result = await signIn('link', { nameId: 'someone-else', attributes: { mail: ['bob@acme.example'] } });
    expect(result.status).toBe(403);
    expect(await auditOf(h.gh, T, 'saml.signin', result.requestId)).toMatchObject({ outcome: 'failure', reason: 'identity.link_conflict' });
  });

  it('refuses when there is no user to link to (mode link), and creates one (mode link-or-jit)', async () => {
    const refused = await signIn('link', { nameId: 'nobody', attributes: { mail: ['nobody@acme.example'] } });
    expect(refused.status).toBe(403);
    expect(await auditOf(h.gh, T, 'saml.signin', refused.requestId)).toMatchObject({ reason: 'identity.link_not_found' });
    const created = await signIn('link-or-jit', { nameId: 'nobody', attributes: { mail: ['nobody@acme.example'] } });
    expect(created.signIn!.user).toMatchObject({ source: 'saml:link-or-jit', externalId: 'nobody' });
  });

  it('refuses the sign-in of a disabled user', async () => {
    const first = await signIn('partner', { nameId: 'p-disabled', attributes: { mail: ['hal@partner.example'] } });
    await h.gh.services.store.forTenant(T).users.update(first.signIn!.user.id, { status: 'disabled' });
    const second = await signIn('partner', { nameId: 'p-disabled', attributes: { mail: ['hal@partner.example'] } });
    expect(second.status).toBe(403);
    expect(second.body).toContain('Your account here is disabled');
    expect(await auditOf(h.gh, T, 'saml.signin', second.requestId)).toMatchObject({ reason: 'identity.account_disabled' });
  });
});
