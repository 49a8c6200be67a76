import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import QRCode from 'qrcode';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/envelope.js';
import { randomId } from '../crypto/secrets.js';
import type { AuditLog, Actor, RequestOrigin } from '../audit/audit-log.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import type { MfaFactorRecord } from '../store/repositories/mfa-repository.js';
import type { SignInThrottle } from '../interaction/sign-in-throttle.js';
import type { MfaPolicy } from '../tenants/tenant-settings.js';
import { generateRecoveryCode, hashRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.js';

/** RFC 6238 defaults, which every authenticator app understands: SHA-1, 6 digits, 30 seconds. */
const TOTP_PERIOD = 30;
/** One step of drift either way (RFC 6238 section 5.2 recommends at most one). */
const TOTP_TOLERANCE_SECONDS = TOTP_PERIOD;

const sealContext = (tenantId: string, factorId: string) => `tenant:${tenantId}|totp-secret:${factorId}`;

export type MfaRequirement = 'off' | 'optional' | 'required';

export interface TotpEnrollment {
  factorId: string;
  secret: string;
  uri: string;
  qrDataUrl: string;
}

export type SecondFactorCheck =
  | { ok: true; method: 'otp' | 'recovery_code'; remainingRecoveryCodes?: number }
  | { ok: false; reason: 'invalid_code' | 'replayed' | 'locked_out' | 'throttled' | 'no_factor'; retryAfterSeconds?: number };

/**
 * Second factors: TOTP authenticators (RFC 6238, otplib) with secrets sealed at rest and replay
 * refused across processes (the last accepted time step lives in the store), single-use recovery
 * codes, the tenant's policy, and throttling of wrong codes like wrong passwords.
 */
export class MfaService {
  constructor(
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly throttle: SignInThrottle,
  ) {}

  /** Whether this user must, may or may not use a second factor, by the tenant's policy. */
  requirement(policy: MfaPolicy, groupNames: string[]): MfaRequirement {
    switch (policy.policy) {
      case 'off':
        return 'off';
      case 'required':
        return 'required';
      case 'groups':
        return groupNames.some((g) => policy.groups.includes(g)) ? 'required' : 'optional';
      default:
        return 'optional';
    }
  }

  async confirmedFactors(store: TenantStore, userId: string): Promise<MfaFactorRecord[]> {
    return (await store.mfa.factors(userId)).filter((f) => f.confirmed);
  }

  private async enrollmentView(tenant: TenantRecord, user: UserRecord, factor: MfaFactorRecord): Promise<TotpEnrollment> {
    const secret = this.box.openString(factor.secretSealed, sealContext(tenant.id, factor.id));
    // The authenticator shows "<tenant>: <username>" (Key Uri Format: issuer and label).
    const uri = generateURI({ issuer: tenant.displayName, label: user.username, secret });
    return { factorId: factor.id, secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, scale: 5 }) };
  }

  /** The enrollment waiting for its first code, or a new one (a new secret each time it starts). */
  async totpEnrollment(tenant: TenantRecord, store: TenantStore, user: UserRecord): Promise<TotpEnrollment> {
    const pending = (await store.mfa.factors(user.id)).find((f) => !f.confirmed && f.type === 'totp');
    if (pending) return this.enrollmentView(tenant, user, pending);
    const id = randomId();
    const secret = generateSecret();
    await store.mfa.insertFactor({ id, userId: user.id, type: 'totp', label: 'Authenticator app', secretSealed: this.box.seal(secret, sealContext(tenant.id, id)), confirmed: false });
    return this.enrollmentView(tenant, user, (await store.mfa.factors(user.id)).find((f) => f.id === id)!);
  }

  private async matchStep(tenantId: string, factor: MfaFactorRecord, code: string): Promise<{ step: number } | 'replayed' | undefined> {
    if (!/^\d{6}$/.test(code)) return undefined;
    const secret = this.box.openString(factor.secretSealed, sealContext(tenantId, factor.id));
    const epoch = Math.floor(this.clock.now() / 1000);
    const result = await verifyTotp({ secret, token: code, epoch, epochTolerance: TOTP_TOLERANCE_SECONDS });
    if (!result.valid) return undefined;
    const step = (result as { timeStep: number }).timeStep;
    if (factor.lastUsedStep !== undefined && step <= factor.lastUsedStep) return 'replayed';
    return { step };
  }

  /** Finishes an enrollment with a correct code; the replaced factor (if any) is removed then. */
  async confirmTotp(tenant: TenantRecord, store: TenantStore, user: UserRecord, code: string, origin: RequestOrigin | undefined, replaces?: string): Promise<boolean> {
    const pending = (await store.mfa.factors(user.id)).find((f) => !f.confirmed && f.type === 'totp');
    if (!pending) return false;
    const match = await this.matchStep(tenant.id, pending, code.trim());
    if (!match || match === 'replayed') {
      await this.audit.record(store, { actor: { type: 'user', id: user.id }, origin, action: 'mfa.enrollment_failed', target: { type: 'user', id: user.id }, outcome: 'failure', reason: 'invalid_code' });
      return false;
    }
    await store.transaction(async (trx) => {
      await trx.mfa.confirmFactor(pending.id, match.step);
      if (replaces) await trx.mfa.deleteFactor(user.id, replaces);
      await this.audit.record(trx, {
        actor: { type: 'user', id: user.id },
        origin,
        action: replaces ? 'mfa.factor_replaced' : 'mfa.enrolled',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        details: { factor: pending.id, type: 'totp', ...(replaces ? { replaced: replaces } : {}) },
      });
    });
    return true;
  }

  /** Ten new recovery codes (the old set dies); returned once, stored only as hashes. */
  async newRecoveryCodes(store: TenantStore, user: UserRecord, actor: Actor, origin?: RequestOrigin): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    const key = this.recoveryKeys(store.tenantId)[0]!;
    await store.transaction(async (trx) => {
      await trx.mfa.replaceRecoveryCodes(user.id, codes.map((c) => hashRecoveryCode(key, user.id, c)));
      await this.audit.record(trx, { actor, origin, action: 'mfa.recovery_codes_generated', target: { type: 'user', id: user.id }, outcome: 'success', details: { count: codes.length } });
    });
    return codes;
  }

  private recoveryKeys(tenantId: string): Buffer[] {
    return this.box.deriveKeys(`recovery-codes|tenant:${tenantId}`);
  }

  /**
   * Checks a second factor at sign-in (or before a sensitive change on the account page): a TOTP
   * code or a recovery code. Wrong codes are throttled with the tenant's sign-in throttle, keyed
   * by the user; lockouts are audited.
   */
  async check(tenant: TenantRecord, store: TenantStore, user: UserRecord, input: { code?: string; recoveryCode?: string }, origin: RequestOrigin | undefined): Promise<SecondFactorCheck> {
    const settings = tenant.settings.signIn.throttle;
    const key = `mfa:${user.id}`;
    const verdict = await this.throttle.check(store, settings, key, origin?.clientIp);
    const actor: Actor = { type: 'user', id: user.id };
    const fail = async (reason: Exclude<SecondFactorCheck, { ok: true }>['reason'], retryAfterSeconds?: number): Promise<SecondFactorCheck> => {
      await this.audit.record(store, { actor, origin, action: 'mfa.failed', target: { type: 'user', id: user.id }, outcome: 'failure', reason });
      if (reason === 'invalid_code' || reason === 'replayed') {
        for (const locked of await this.throttle.recordFailure(store, settings, key, origin?.clientIp)) {
          await this.audit.record(store, {
            actor,
            origin,
            action: 'mfa.locked_out',
            target: { type: locked === 'account' ? 'user' : 'client_ip', id: locked === 'account' ? user.id : origin?.clientIp },
            outcome: 'failure',
            reason: 'too_many_wrong_codes',
            details: { lockoutMinutes: settings.lockoutMinutes },
          });
        }
      }
      return { ok: false, reason, retryAfterSeconds };
    };
    if (!verdict.allowed) return fail(verdict.reason, verdict.retryAfterSeconds);

    if (input.recoveryCode !== undefined) {
      for (const k of this.recoveryKeys(tenant.id)) {
        if (await store.mfa.useRecoveryCode(user.id, hashRecoveryCode(k, user.id, input.recoveryCode))) {
          const remaining = await store.mfa.remainingRecoveryCodes(user.id);
          await this.throttle.recordSuccess(store, key);
          await this.audit.record(store, { actor, origin, action: 'mfa.recovery_code_used', target: { type: 'user', id: user.id }, outcome: 'success', details: { remaining } });
          return { ok: true, method: 'recovery_code', remainingRecoveryCodes: remaining };
        }
      }
      return fail('invalid_code');
    }

    const factors = (await this.confirmedFactors(store, user.id)).filter((f) => f.type === 'totp');
    if (factors.length === 0) return fail('no_factor');
    let replayed = false;
    for (const factor of factors) {
      const match = await this.matchStep(tenant.id, factor, (input.code ?? '').trim());
      if (match === 'replayed') replayed = true;
      if (!match || match === 'replayed') continue;
      // Conditional update: another process that accepted the same code first wins.
      if (!(await store.mfa.advanceStep(factor.id, match.step))) {
        replayed = true;
        continue;
      }
      await this.throttle.recordSuccess(store, key);
      await this.audit.record(store, { actor, origin, action: 'mfa.verified', target: { type: 'user', id: user.id }, outcome: 'success', details: { method: 'otp', factor: factor.id } });
      return { ok: true, method: 'otp' };
    }
    return fail(replayed ? 'replayed' : 'invalid_code');
  }

  async removeFactor(store: TenantStore, user: UserRecord, factorId: string, origin?: RequestOrigin): Promise<boolean> {
    const removed = await store.mfa.deleteFactor(user.id, factorId);
    if (removed) await this.audit.record(store, { actor: { type: 'user', id: user.id }, origin, action: 'mfa.factor_removed', target: { type: 'user', id: user.id }, outcome: 'success', details: { factor: factorId } });
    return removed;
  }

  /** Help desk: clears every factor and recovery code of a person; they enroll again if policy asks. */
  async reset(store: TenantStore, user: UserRecord, actor: Actor): Promise<{ factors: number; codes: number }> {
    return store.transaction(async (trx) => {
      const removed = await trx.mfa.deleteAll(user.id);
      await this.audit.record(trx, { actor, action: 'mfa.reset', target: { type: 'user', id: user.id }, outcome: 'success', details: removed });
      return removed;
    });
  }
}
