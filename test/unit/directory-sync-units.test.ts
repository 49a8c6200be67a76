import { describe, expect, it } from '@jest/globals';
import { normalizeDn } from '../../src/connectors/ldap/ldap-dn.js';
import { dnKeyOf } from '../../src/directory/sync/sync-target.js';
import { formatGeneralizedTime, nextTimestampMark, parseGeneralizedTime, parseMark, CLOCK_STEP_ALLOWANCE_MS, MODIFY_TIMESTAMP_MARGIN_MS } from '../../src/connectors/ldap/ldap-change-marks.js';
import { guidBytes } from '../../src/connectors/ldap/ldap-directory-source.js';
import { formatGuid } from '../../src/connectors/ldap/ldap-entry.js';
import { thresholdBreach } from '../../src/directory/sync/deletion-threshold.js';

describe('dnKeyOf (the short path for DN keys)', () => {
  it('gives exactly what normalizeDn gives', () => {
    const dns = [
      'uid=alice,ou=people,dc=example,dc=com',
      'UID=Alice, OU=People ,DC=Example,DC=COM',
      'cn=Zoë Ñúñez,ou=people,dc=example,dc=com',
      'CN=Carol  Müller,OU=People,DC=example,DC=test',
      'cn=ﬁle,dc=x',
      'cn=Ａｌｉｃｅ,dc=x',
      'cn=a＋b,dc=x',
      'cn=a\\,b,dc=x',
      'cn=a\\2Cb,dc=x',
      'uid=tricky*(user)\\5Cname,ou=people,dc=example,dc=com',
      'cn=a+sn=b,dc=x',
      'cn=#04024869,dc=x',
      '2.5.4.3=alice,dc=x',
      'cn=  spaced   out  ,dc=x',
    ];
    for (const dn of dns) expect(dnKeyOf(dn)).toBe(normalizeDn(dn));
  });

  it('answers undefined for what is not a DN', () => {
    expect(dnKeyOf('not a dn')).toBeUndefined();
    expect(dnKeyOf('cn=a,,dc=x')).toBeUndefined();
  });
});


describe('modifyTimestamp marks', () => {
  const at = (text: string) => parseGeneralizedTime(text)!;

  it('reads GeneralizedTime as servers print it (RFC 4517 3.3.13)', () => {
    expect(at('20260601120000Z')).toBe(Date.UTC(2026, 5, 1, 12, 0, 0));
    expect(at('20260601120000.5Z')).toBe(Date.UTC(2026, 5, 1, 12, 0, 0, 500));
    expect(at('20260601140000+0200')).toBe(Date.UTC(2026, 5, 1, 12, 0, 0));
    expect(parseGeneralizedTime('yesterday')).toBeUndefined();
    expect(formatGeneralizedTime(Date.UTC(2026, 5, 1, 12, 0, 0, 999))).toBe('20260601120000Z');
  });

  it('never lies after the server time at the start of the run: latest read minus the run time and a margin', () => {
    const latest = at('20260601120000Z');
    const mark = nextTimestampMark({ previous: undefined, latestRead: latest, elapsedMs: 20_000, startedRealAt: 0, nowReal: 1 })!;
    expect(at(mark.value)).toBe(latest - 20_000 - MODIFY_TIMESTAMP_MARGIN_MS);
    expect(mark.latest).toBe('20260601120000Z');
  });

  it('moves past what earlier runs read, and past a bulk import once runs are more than a minute apart', () => {
    const latest = at('20260601120000Z');
    const first = nextTimestampMark({ previous: undefined, latestRead: latest, elapsedMs: 1000, startedRealAt: 1_000_000, nowReal: 1_001_000 })!;
    // Right after: the latest timestamp read before is a safe bound (b), not beyond it.
    const soon = nextTimestampMark({ previous: first, latestRead: latest, elapsedMs: 500, startedRealAt: 1_002_000, nowReal: 1_002_500 })!;
    expect(at(soon.value)).toBe(latest);
    // Ten minutes later, nothing new read: the server's clock moved too (c).
    const later = nextTimestampMark({ previous: soon, latestRead: undefined, elapsedMs: 100, startedRealAt: 1_002_500 + 600_000, nowReal: 1_002_500 + 600_100 })!;
    expect(at(later.value)).toBe(latest + 600_000 - CLOCK_STEP_ALLOWANCE_MS);
    expect(parseMark(JSON.stringify(later))).toEqual(later);
  });
});

describe('objectGUID', () => {
  it('turns the string form back into the bytes AD stores ([MS-DTYP] 2.3.4.3)', () => {
    const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(guidBytes(formatGuid(bytes))).toEqual(bytes);
    expect(guidBytes('not-a-guid')).toBeUndefined();
  });
});

describe('deletion threshold', () => {
  it('stops past a count, past a percentage, and always when every object is gone', () => {
    expect(thresholdBreach('user', 0, 10, { count: 0 })).toBeUndefined();
    expect(thresholdBreach('user', 5, 1000, { count: 500 })).toBeUndefined();
    expect(thresholdBreach('user', 501, 1000, { count: 500 })).toMatch(/501 users are gone, more than the threshold of 500/);
    expect(thresholdBreach('user', 11, 100, { percent: 10 })).toMatch(/11 of 100 users \(11\.0%\)/);
    expect(thresholdBreach('user', 10, 100, { percent: 10 })).toBeUndefined();
    expect(thresholdBreach('group', 3, 3, { count: 500 })).toMatch(/every group of the connection \(3\)/);
  });
});
