import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { directoryClient, scimClient, type ScimResponse } from '../helpers/directory-api.js';
import { linkExternalIdentity } from '../../src/directory/identity-linker.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const OPERATOR = { type: 'operator' as const, id: 'test' };

const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  name: { givenName: userName[0]!.toUpperCase() + userName.slice(1), familyName: 'Example' },
  emails: [{ value: `${userName}@example.test`, type: 'work', primary: true }],
  active: true,
  ...extra,
});

function expectScimError(res: ScimResponse, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
  else expect(res.body.scimType).toBeUndefined();
  expect(typeof res.body.detail).toBe('string');
}

describe('SCIM 2.0 server (a real server, requests as a SCIM client sends them)', () => {
  let gh: TestGatehouse;
  let token: string;
  let readOnlyToken: string;
  let betaToken: string;
  let scim: ReturnType<typeof scimClient>;

  beforeAll(async () => {
    gh = await startGatehouse({ overrides: { webhooks: { dispatcherEnabled: false } } });
    for (const id of ['alpha', 'beta']) await gh.services.tenants.create({ id, displayName: id }, OPERATOR);
    token = await (await directoryClient(gh, 'alpha', 'provisioner', ['scim:read', 'scim:write']))();
    readOnlyToken = await (await directoryClient(gh, 'alpha', 'reader', ['scim:read']))();
    betaToken = await (await directoryClient(gh, 'beta', 'provisioner', ['scim:read', 'scim:write']))();
    scim = scimClient(gh, 'alpha', () => token);
  });
  afterAll(async () => gh?.stop());

  it('publishes ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.headers.get('content-type')).toMatch(/application\/scim\+json/);
    expect(spc.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 200 }, etag: { supported: true }, bulk: { supported: false } });
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(2);
    const user = await scim('GET', `/Schemas/${USER}`);
    expect(user.body.attributes.find((a: { name: string }) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server' });
  });

  it('creates, reads and filters users', async () => {
    const created = await scim('POST', '/Users', newUser('alice', { externalId: 'ext-alice' }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${gh.issuer('alpha')}/scim/v2/Users/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.body).toMatchObject({ schemas: [USER], userName: 'alice', externalId: 'ext-alice', active: true, emails: [{ value: 'alice@example.test', primary: true }], meta: { resourceType: 'User', version: 'W/"1"' } });
    for (const name of ['bob', 'carol', 'dave']) expect((await scim('POST', '/Users', newUser(name))).status).toBe(201);

    const got = await scim('GET', `/Users/${created.body.id}`);
    expect(got.body.userName).toBe('alice');
    expect((await scim('GET', `/Users/${created.body.id}`, undefined, { 'if-none-match': 'W/"1"' })).status).toBe(304);

    const byName = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ALICE"')}`);
    expect(byName.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    const names = async (filter: string) =>
      ((await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`)).body.Resources as Array<{ userName: string }>).map((u) => u.userName).sort();
    expect(await names('userName sw "c" or userName ew "ve"')).toEqual(['carol', 'dave']);
    expect(await names('emails.value co "ob@"')).toEqual(['bob']);
    expect(await names('emails[type eq "work" and value co "carol"]')).toEqual(['carol']);
    expect(await names('not (userName eq "alice") and (name.givenName sw "B" or name.givenName sw "D")')).toEqual(['bob', 'dave']);
    expect(await names('externalId eq "ext-alice"')).toEqual(['alice']);
    expect(await names('userName gt "bob" and userName le "dave"')).toEqual(['carol', 'dave']);
    expect(await names('userName ne "alice" and userName lt "carol"')).toEqual(['bob']);
    expect(await names('externalId pr')).toEqual(['alice']);
    expect(await names(`meta.created ge "2000-01-01T00:00:00Z" and active eq true and userName eq "bob"`)).toEqual(['bob']);
    const projected = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "bob"')}&attributes=userName`);
    expect(Object.keys(projected.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('paginates with startIndex and count', async () => {
    const page = (start: number, count: number) => scim('GET', `/Users?startIndex=${start}&count=${count}`);
    const first = await page(1, 3);
    expect(first.body).toMatchObject({ totalResults: 4, startIndex: 1, itemsPerPage: 3 });
    const second = await page(4, 3);
    expect(second.body).toMatchObject({ totalResults: 4, startIndex: 4, itemsPerPage: 1 });
    const all = [...first.body.Resources, ...second.body.Resources].map((u: { userName: string }) => u.userName);
    expect(new Set(all).size).toBe(4);
    expect((await page(1, 0)).body).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
  });

  it('creates groups and patches members with add, value-filtered remove and replace', async () => {
    const users = (await scim('GET', '/Users')).body.Resources as Array<{ id: string; userName: string }>;
    const id = (name: string) => users.find((u) => u.userName === name)!.id;
    const created = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: id('alice') }] });
    expect(created.status).toBe(201);
    expect(created.body.members).toEqual([expect.objectContaining({ value: id('alice'), type: 'User', display: 'alice' })]);
    const gid = created.body.id as string;

    const added = await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id('bob') }, { value: id('carol') }] }] });
    expect(added.status).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value).sort()).toEqual([id('alice'), id('bob'), id('carol')].sort());
    expect(added.headers.get('etag')).toBe('W/"4"');

    const removed = await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${id('bob')}"]` }] });
    expect(removed.body.members.map((m: { value: string }) => m.value).sort()).toEqual([id('alice'), id('carol')].sort());

    // Microsoft Entra's form: "Remove" with the members to remove as the value.
    const entra = await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ value: id('carol') }] }] });
    expect(entra.body.members.map((m: { value: string }) => m.value)).toEqual([id('alice')]);

    const replaced = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'members', value: [{ value: id('dave') }] },
        { op: 'replace', path: 'displayName', value: 'Platform' },
      ],
    });
    expect(replaced.body).toMatchObject({ displayName: 'Platform', members: [expect.objectContaining({ value: id('dave') })] });

    const memberOf = await scim('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${id('dave')}"]`)}&excludedAttributes=members`);
    expect(memberOf.body.totalResults).toBe(1);
    expect(memberOf.body.Resources[0].members).toBeUndefined();
    const dave = await scim('GET', `/Users/${id('dave')}`);
    expect(dave.body.groups).toEqual([expect.objectContaining({ value: gid, display: 'Platform', type: 'direct' })]);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${gid}"`)}`)).body.totalResults).toBe(1);
  });

  it('replaces and patches users, honouring If-Match', async () => {
    const bob = (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "bob"')}`)).body.Resources[0];
    const put = await scim('PUT', `/Users/${bob.id}`, newUser('bob', { displayName: 'Bob B.', phoneNumbers: [{ value: '+1 555 0100' }] }), { 'if-match': bob.meta.version });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Bob B.', phoneNumbers: [{ value: '+1 555 0100' }] });
    expect(put.body.meta.version).not.toBe(bob.meta.version);

    const stale = await scim('PATCH', `/Users/${bob.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Robert' }] }, { 'if-match': bob.meta.version });
    expectScimError(stale, 412);
    expect((await scim('DELETE', `/Users/${bob.id}`, undefined, { 'if-match': bob.meta.version })).status).toBe(412);

    const patched = await scim('PATCH', `/Users/${bob.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'replace', value: { 'name.givenName': 'Robert', displayName: 'Robert Example' } },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'robert@example.test' },
      ],
    }, { 'if-match': put.body.meta.version });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ active: false, name: { givenName: 'Robert' }, displayName: 'Robert Example', emails: [{ value: 'robert@example.test' }] });
    const stored = await gh.services.store.forTenant('alpha').users.get(bob.id);
    expect(stored).toMatchObject({ status: 'disabled', email: 'robert@example.test', source: 'scim' });
  });

  it('answers each error in the SCIM error schema with its scimType', async () => {
    const alice = (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "alice"')}`)).body.Resources[0];
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName zz "a"')}`), 400, 'invalidFilter');
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('title eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await scim('GET', '/Users?startIndex=20000'), 400, 'tooMany');
    expectScimError(await scim('POST', '/Users', '{"schemas": ['), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', { userName: 'nobody' }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', newUser('erin', { emails: [{ value: 'not-an-email' }] })), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { schemas: [USER] }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', newUser('Alice')), 409, 'uniqueness');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }), 400, 'mutability');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName[', value: 'x' }] }), 400, 'invalidPath');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'favouriteColour', value: 'x' }] }), 400, 'invalidPath');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'emails[type eq "home"].value', value: 'a@b.test' }] }), 400, 'noTarget');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'remove' }] }), 400, 'noTarget');
    expectScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'move', path: 'x' }] }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Ghosts', members: [{ value: 'no-such-id' }] }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Platform' }), 409, 'uniqueness');
    expectScimError(await scim('GET', '/Users/does-not-exist'), 404);
    expectScimError(await scim('GET', '/Nothing'), 404);
    expectScimError(await scim('POST', '/Bulk', { schemas: [] }), 501);
  });

  it('refuses missing, read-only, foreign and other-tenant tokens', async () => {
    const anonymous = await fetch(`${gh.issuer('alpha')}/scim/v2/Users`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(await anonymous.json()).toMatchObject({ schemas: [ERROR], status: '401' });

    const reader = scimClient(gh, 'alpha', () => readOnlyToken);
    expect((await reader('GET', '/Users')).status).toBe(200);
    const refused = await reader('POST', '/Users', newUser('mallory'));
    expectScimError(refused, 403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);

    // A token of tenant beta at tenant alpha: another issuer, other keys.
    const crossTenant = scimClient(gh, 'alpha', () => betaToken);
    const res = await crossTenant('GET', '/Users');
    expectScimError(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // And beta sees none of alpha's users with its own token.
    expect((await scimClient(gh, 'beta', () => betaToken)('GET', '/Users')).body.totalResults).toBe(0);

    // A token of alpha for another API of alpha (wrong audience) is refused too.
    const store = gh.services.store.forTenant('alpha');
    await gh.services.resources.upsert(store, { identifier: 'https://api.other.test', scopes: ['scim:write'] }, OPERATOR);
    const { secret } = await gh.services.clients.create(store, { clientId: 'other-api', grantTypes: ['client_credentials'], resources: [{ resource: 'https://api.other.test', scopes: ['scim:write'] }] }, OPERATOR);
    const other = await fetch(`${gh.issuer('alpha')}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`other-api:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.other.test', scope: 'scim:write' }),
    });
    const otherToken = ((await other.json()) as { access_token: string }).access_token;
    expectScimError(await scimClient(gh, 'alpha', () => otherToken)('GET', '/Users'), 401);
  });

  it('keeps users of a directory connection and local users owned by their source', async () => {
    const store = gh.services.store.forTenant('alpha');
    const { user: synced } = await linkExternalIdentity(store, {
      source: 'ldap:corp',
      externalId: 'entry-uuid-1',
      username: 'frank',
      email: 'frank@corp.test',
      givenName: 'Frank',
      groups: [{ externalId: 'cn=ops', name: 'ops' }],
      roles: [],
      authentication: { amr: ['pwd'] },
    });
    const local = await gh.services.users.create(store, { username: 'grace', email: 'grace@example.test' }, OPERATOR);

    const read = await scim('GET', `/Users/${synced.id}`);
    expect(read.body).toMatchObject({ userName: 'frank', groups: [expect.objectContaining({ display: 'ops' })] });
    expect(read.body.externalId).toBeUndefined();
    expectScimError(await scim('PATCH', `/Users/${synced.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'F' }] }), 400, 'mutability');
    expectScimError(await scim('PATCH', `/Users/${local.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }), 400, 'mutability');
    expectScimError(await scim('DELETE', `/Users/${synced.id}`), 403);
    expectScimError(await scim('DELETE', `/Users/${local.id}`), 403);
    // externalId (the SCIM client's own id) is always writable and kept apart from the source's id.
    const linked = await scim('PATCH', `/Users/${synced.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'externalId', value: 'okta-42' }] });
    expect(linked.body.externalId).toBe('okta-42');
    expect(await store.users.get(synced.id)).toMatchObject({ externalId: 'entry-uuid-1', source: 'ldap:corp' });
    // Groups of the connection are read-only.
    const ops = (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "ops"')}`)).body.Resources[0];
    expectScimError(await scim('PATCH', `/Groups/${ops.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: local.id }] }] }), 400, 'mutability');

    // The tenant opens `active` and `displayName` of synced users to SCIM.
    const tenant = (await gh.services.store.tenants.get('alpha'))!;
    await gh.services.tenants.update('alpha', { settings: { ...tenant.settings, scim: { writableAttributesOfSyncedUsers: ['active', 'displayName'] } } }, OPERATOR);
    const allowed = await scim('PATCH', `/Users/${synced.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false, displayName: 'Frank F.' } }] });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ active: false, displayName: 'Frank F.' });
    expectScimError(await scim('PATCH', `/Users/${synced.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'franky' }] }), 400, 'mutability');
  });

  it('deletes SCIM users and groups for good', async () => {
    const carol = (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "carol"')}`)).body.Resources[0];
    expect((await scim('DELETE', `/Users/${carol.id}`)).status).toBe(204);
    expectScimError(await scim('GET', `/Users/${carol.id}`), 404);
    expectScimError(await scim('DELETE', `/Users/${carol.id}`), 404);
    const group = (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Platform"')}`)).body.Resources[0];
    expect((await scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    expectScimError(await scim('GET', `/Groups/${group.id}`), 404);
  });

  it('searches with POST .search', async () => {
    const res = await scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "alice"', attributes: ['userName'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 1, Resources: [{ userName: 'alice' }] });
  });
});
