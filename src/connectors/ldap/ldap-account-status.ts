import type { PasswordFailureReason } from '../connector.js';
import type { LdapFailure } from './ldap-errors.js';
import type { LdapEntry } from './ldap-entry.js';
import type { LdapSettings } from './ldap-settings.js';

/**
 * Account state, read from the user's entry before the password is tried, and the meaning of a
 * refused bind. Refusing disabled, locked and expired accounts before binding means their
 * passwords cannot be probed and their bad-password counters do not move; the bind's own answer
 * stays the backstop.
 */

export interface AccountRefusal {
  reason: Exclude<PasswordFailureReason, 'unknown_user' | 'directory_unavailable'>;
  detail: string;
}

/** userAccountControl flags ([MS-ADTS] 2.2.16). */
const UF_ACCOUNTDISABLE = 0x2;
const UF_LOCKOUT = 0x10;
const UF_PASSWORD_EXPIRED = 0x800000;

/** accountExpires: 0 and 0x7FFFFFFFFFFFFFFF both mean "never" ([MS-ADA1] Account-Expires). */
const NEVER = 0x7fffffffffffffffn;
/** 100-nanosecond intervals between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

export function fileTimeToMs(value: string): number | undefined {
  if (!/^-?\d+$/.test(value)) return undefined;
  const ft = BigInt(value);
  if (ft <= 0n || ft >= NEVER) return undefined;
  return Number((ft - FILETIME_UNIX_EPOCH) / 10000n);
}

/** ppolicy's marker for an account locked by an administrator until unlocked (draft-behera-ldap-password-policy §5.3.3). */
const PERMANENTLY_LOCKED = '000001010000Z';

export function accountStatusAttributes(settings: LdapSettings): string[] {
  switch (settings.accountStatus) {
    case 'active-directory':
      return ['userAccountControl', 'msDS-User-Account-Control-Computed', 'accountExpires', 'lockoutTime'];
    case 'openldap-ppolicy':
      return ['pwdAccountLockedTime'];
    case 'none':
      return [];
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** A refusal when the entry says the account cannot sign in now; undefined otherwise. */
export function refuseBeforeBind(entry: LdapEntry, settings: LdapSettings, now: number): AccountRefusal | undefined {
  if (settings.accountStatus === 'active-directory') {
    const uac = Number(entry.first('userAccountControl') ?? '0');
    if (uac & UF_ACCOUNTDISABLE) return { reason: 'account_disabled', detail: `userAccountControl ${uac} (${hex(uac)}) has ACCOUNTDISABLE (0x2)` };
    const computedText = entry.first('msDS-User-Account-Control-Computed');
    if (computedText !== undefined) {
      // Constructed by the DC from lockoutTime and the domain's lockout duration: authoritative.
      const computed = Number(computedText);
      if (computed & UF_LOCKOUT) return { reason: 'account_locked', detail: `msDS-User-Account-Control-Computed ${hex(computed)} has LOCKOUT (0x10)` };
      if (computed & UF_PASSWORD_EXPIRED) return { reason: 'password_expired', detail: `msDS-User-Account-Control-Computed ${hex(computed)} has PASSWORD_EXPIRED (0x800000)` };
    } else {
      // Without the constructed attribute, a non-zero lockoutTime is the only sign of a lockout.
      const lockoutTime = entry.first('lockoutTime');
      if (lockoutTime && lockoutTime !== '0') return { reason: 'account_locked', detail: `lockoutTime ${lockoutTime} is set` };
    }
    const expires = entry.first('accountExpires');
    const expiresAt = expires ? fileTimeToMs(expires) : undefined;
    if (expiresAt !== undefined && expiresAt <= now) {
      return { reason: 'account_expired', detail: `accountExpires ${new Date(expiresAt).toISOString()} has passed` };
    }
  }
  if (settings.accountStatus === 'openldap-ppolicy') {
    if (entry.first('pwdAccountLockedTime') === PERMANENTLY_LOCKED) {
      return { reason: 'account_disabled', detail: `pwdAccountLockedTime ${PERMANENTLY_LOCKED} (locked by an administrator)` };
    }
  }
  return undefined;
}

/**
 * Active Directory's sub-codes of a failed bind (result 49): what they mean for the person.
 * 525 (no such user) cannot happen after a successful search except in a race.
 */
const AD_BIND_CODES: Record<string, AccountRefusal> = {
  '525': { reason: 'invalid_credentials', detail: 'AD data 525: user not found at bind' },
  '52e': { reason: 'invalid_credentials', detail: 'AD data 52e: invalid credentials' },
  '530': { reason: 'account_disabled', detail: 'AD data 530: not permitted to log on at this time' },
  '531': { reason: 'account_disabled', detail: 'AD data 531: not permitted to log on at this workstation' },
  '532': { reason: 'password_expired', detail: 'AD data 532: password expired' },
  '533': { reason: 'account_disabled', detail: 'AD data 533: account disabled' },
  '701': { reason: 'account_expired', detail: 'AD data 701: account expired' },
  '773': { reason: 'password_expired', detail: 'AD data 773: password must be changed' },
  '775': { reason: 'account_locked', detail: 'AD data 775: account locked out' },
};

/** What a refused user bind means. */
export function interpretBindFailure(failure: LdapFailure, entry: LdapEntry, settings: LdapSettings): AccountRefusal {
  if (failure.kind === 'result' && failure.code === 49) {
    const known = failure.adDataCode ? AD_BIND_CODES[failure.adDataCode] : undefined;
    if (known) return known;
    // ppolicy answers a locked account with plain invalidCredentials.
    const locked = settings.accountStatus === 'openldap-ppolicy' ? entry.first('pwdAccountLockedTime') : undefined;
    if (locked) return { reason: 'account_locked', detail: `bind refused (invalidCredentials) and pwdAccountLockedTime ${locked} is set` };
    return { reason: 'invalid_credentials', detail: `bind refused: ${failure.detail}` };
  }
  return { reason: 'invalid_credentials', detail: `bind refused: ${failure.detail}` };
}
