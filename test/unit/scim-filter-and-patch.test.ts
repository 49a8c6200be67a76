import { describe, expect, it } from '@jest/globals';
import { parseFilter } from '../../src/scim/protocol/filter-parser.js';
import { parsePatchPath } from '../../src/scim/protocol/patch-path.js';
import { applyPatch, patchRequestSchema } from '../../src/scim/protocol/patch-operations.js';
import { USER_SCHEMA, GROUP_SCHEMA } from '../../src/scim/resources/resource-schemas.js';
import { retryDelayMs } from '../../src/directory/webhooks/retry-policy.js';
import { verifySignatureHeader, signatureHeader } from '../../src/directory/webhooks/webhook-signature.js';
import { decodeCursor, encodeCursor } from '../../src/directory/change-feed.js';

/** A compact rendering of a filter tree, to read precedence at a glance. */
function show(filter: string): string {
  const render = (n: ReturnType<typeof parseFilter>): string => {
    switch (n.type) {
      case 'logical':
        return `(${render(n.left)} ${n.op} ${render(n.right)})`;
      case 'not':
        return `not ${render(n.filter)}`;
      case 'present':
        return `${n.path.attr}${n.path.sub ? `.${n.path.sub}` : ''} pr`;
      case 'compare':
        return `${n.path.attr}${n.path.sub ? `.${n.path.sub}` : ''} ${n.op} ${JSON.stringify(n.value)}`;
      case 'valuePath':
        return `${n.path.attr}[${render(n.filter)}]`;
    }
  };
  return render(parseFilter(filter));
}

describe('SCIM filter parser (RFC 7644 3.4.2.2)', () => {
  it('parses the RFC\'s examples', () => {
    expect(show('userName Eq "john"')).toBe('userName eq "john"');
    expect(show('name.familyName co "O\'Malley"')).toBe('name.familyName co "O\'Malley"');
    expect(show('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"')).toBe('userName sw "J"');
    expect(show('title pr and userType eq "Employee"')).toBe('(title pr and userType eq "Employee")');
    expect(show('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")')).toBe(
      '(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))',
    );
    expect(show('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")')).toBe(
      '(userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org"))',
    );
    expect(show('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]')).toBe(
      '(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])',
    );
    expect(show('meta.lastModified gt "2011-05-13T04:42:34Z"')).toBe('meta.lastModified gt "2011-05-13T04:42:34Z"');
  });

  it('binds and tighter than or, and reads values of every type', () => {
    expect(show('a eq 1 or b eq true and c eq null')).toBe('(a eq 1 or (b eq true and c eq null))');
    expect(show('a eq -1.5e2 OR b eq false')).toBe('(a eq -150 or b eq false)');
    expect(show('a eq "quote \\" and \\u00e9"')).toBe('a eq "quote \\" and é"');
  });

  it('refuses malformed filters as invalidFilter', () => {
    for (const bad of ['', 'userName', 'userName eq', 'userName eq john', 'userName eq "a" and', '(userName eq "a"', 'not userName eq "a"', 'userName eq "a" extra', 'a[b eq "c"', 'a eq "unterminated', 'a.b.c eq "x"', 'x' + ' and a eq 1'.repeat(0) + ' eq @']) {
      expect(() => parseFilter(bad)).toThrow(expect.objectContaining({ details: { scimType: 'invalidFilter' } }));
    }
    expect(() => parseFilter('('.repeat(100) + 'a pr' + ')'.repeat(100))).toThrow(/nested too deeply/);
  });
});

describe('SCIM PATCH (RFC 7644 3.5.2)', () => {
  const user = { schemas: [USER_SCHEMA.id], id: 'u1', userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' }, emails: [{ value: 'b@work.test', type: 'work' }, { value: 'b@home.test', type: 'home' }], active: true };
  const patch = (resource: Record<string, unknown>, ops: unknown[], schema = USER_SCHEMA) =>
    applyPatch(resource, patchRequestSchema.parse({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops }), schema);

  it('parses paths with value filters and sub-attributes', () => {
    expect(parsePatchPath('emails[type eq "work"].value')).toMatchObject({ path: { attr: 'emails' }, subAfterFilter: 'value', filter: { type: 'compare' } });
    expect(parsePatchPath('name.familyName')).toMatchObject({ path: { attr: 'name', sub: 'familyName' }, filter: undefined });
    expect(() => parsePatchPath('emails[type eq "work"]x')).toThrow(expect.objectContaining({ details: { scimType: 'invalidPath' } }));
  });

  it('adds, replaces and removes, keeping the input untouched', () => {
    const out = patch(user, [
      { op: 'add', path: 'emails', value: [{ value: 'b@other.test', type: 'other' }] },
      { op: 'replace', path: 'name.givenName', value: 'Babs' },
      { op: 'replace', path: 'emails[type eq "home"].value', value: 'b@house.test' },
      { op: 'remove', path: 'emails[type eq "work"]' },
      { op: 'replace', value: { displayName: 'Babs Jensen', NAME: { familyName: 'J' } } },
    ]);
    expect(out).toMatchObject({ name: { givenName: 'Babs', familyName: 'J' }, displayName: 'Babs Jensen' });
    expect(out.emails).toEqual([{ value: 'b@house.test', type: 'home' }, { value: 'b@other.test', type: 'other' }]);
    expect(user.emails).toHaveLength(2);
  });

  it('adds members without duplicates and removes them by filter', () => {
    const group = { schemas: [GROUP_SCHEMA.id], id: 'g', displayName: 'G', members: [{ value: 'a' }] };
    const added = patch(group, [{ op: 'add', path: 'members', value: [{ value: 'a' }, { value: 'b' }] }], GROUP_SCHEMA);
    expect(added.members).toEqual([{ value: 'a' }, { value: 'b' }]);
    const removed = patch(added, [{ op: 'remove', path: 'members[value eq "a"]' }, { op: 'remove', path: 'members[value eq "gone"]' }], GROUP_SCHEMA);
    expect(removed.members).toEqual([{ value: 'b' }]);
  });

  it('refuses what cannot be done with the right scimType', () => {
    const scimType = (ops: unknown[]) => {
      try {
        patch(user, ops);
        return 'applied';
      } catch (e) {
        return (e as { details?: { scimType?: string } }).details?.scimType;
      }
    };
    expect(scimType([{ op: 'remove' }])).toBe('noTarget');
    expect(scimType([{ op: 'replace', path: 'emails[type eq "fax"].value', value: 'x' }])).toBe('noTarget');
    expect(scimType([{ op: 'replace', path: 'id', value: 'x' }])).toBe('mutability');
    expect(scimType([{ op: 'replace', path: 'shoeSize', value: 44 }])).toBe('invalidPath');
    expect(scimType([{ op: 'replace', path: 'userName[value eq "x"]', value: 'y' }])).toBe('invalidPath');
    expect(scimType([{ op: 'replace', path: 'name', value: 'not an object' }])).toBe('invalidValue');
    expect(scimType([{ op: 'add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'x' }])).toBe('applied');
  });
});

describe('webhook retry delays, signatures, feed cursors', () => {
  it('doubles the delay up to the cap, half of it jitter', () => {
    const policy = { baseSeconds: 10, maxSeconds: 3600, maxAttempts: 12 };
    expect([1, 2, 3, 10, 30].map((n) => retryDelayMs({ ...policy, random: () => 0 }, n))).toEqual([5000, 10000, 20000, 1800000, 1800000]);
    expect([1, 2, 3, 10, 30].map((n) => retryDelayMs({ ...policy, random: () => 0.999999 }, n))).toEqual([10000, 20000, 40000, 3599998, 3599998]);
  });

  it('verifies a signature over the timestamp and the body, and refuses old timestamps', () => {
    const header = signatureHeader('whsec_test', 1_700_000_000, '{"a":1}');
    expect(verifySignatureHeader('whsec_test', header, '{"a":1}', 1_700_000_100)).toBe(true);
    expect(verifySignatureHeader('whsec_test', header, '{"a":2}', 1_700_000_100)).toBe(false);
    expect(verifySignatureHeader('whsec_test', header, '{"a":1}', 1_700_001_000)).toBe(false);
  });

  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    for (const bad of ['', 'abc', Buffer.from('c1.-1').toString('base64url'), Buffer.from('c2.5').toString('base64url'), 'a'.repeat(100)]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'directory.invalid_cursor' }));
    }
  });
});
