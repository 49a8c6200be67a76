import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { SecretBox } from '../crypto/envelope.js';
import type { AuditLog, RequestOrigin } from '../audit/audit-log.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import type { MfaFactorRecord } from '../store/repositories/mfa-repository.js';
import type { LoadedInteraction } from '../interaction/interaction-flow.js';

/** What is kept of a credential (WebAuthn Level 2, section 6.1): its public key and transports. */
interface StoredCredential {
  publicKey: string;
  transports?: string[] | undefined;
  backedUp?: boolean | undefined;
}

const sealContext = (tenantId: string, credentialId: string) => `tenant:${tenantId}|webauthn-credential:${credentialId}`;

/**
 * The passkey assertion a page posted, checked against the challenge the interaction issued. The
 * challenge is spent here whatever the outcome: a second post of the same assertion fails.
 */
export async function verifyInteractionAssertion(
  webauthn: WebAuthnService,
  it: LoadedInteraction,
  postedResponse: string | undefined,
  expectedUser?: UserRecord,
): Promise<WebAuthnResult & { credentialIdPosted?: string | undefined }> {
  const challenge = it.state.webauthnChallenge as string | undefined;
  it.state.webauthnChallenge = undefined;
  await it.states.save(it.details.uid, it.state);
  let response: AuthenticationResponseJSON | undefined;
  try {
    response = JSON.parse(postedResponse ?? '') as AuthenticationResponseJSON;
  } catch {
    response = undefined;
  }
  if (!challenge || !response) return { ok: false, reason: 'verification_failed' };
  const result = await webauthn.finishAuthentication(it.runtime.tenant, it.runtime.store, response, challenge, expectedUser);
  return { ...result, credentialIdPosted: response.id };
}

export type WebAuthnResult =
  | { ok: true; user: UserRecord; userVerified: boolean; credentialId: string }
  | { ok: false; reason: 'unknown_credential' | 'verification_failed' | 'counter_regressed' | 'account_disabled' };

/**
 * Passkeys and security keys (WebAuthn, @simplewebauthn/server): registered from the account
 * page, used as a second factor or, with user verification, as a passwordless sign-in. The
 * relying party id is the host of Gatehouse's public URL; the origin is checked on every
 * ceremony. A credential is a factor row whose id is the credential id; its signature counter
 * lives in the row's step column and must grow (or stay zero), which flags cloned authenticators.
 */
export class WebAuthnService {
  constructor(
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
    private readonly publicUrl: () => string,
  ) {}

  private rp(tenant: TenantRecord) {
    const url = new URL(this.publicUrl());
    return { rpID: url.hostname, origin: url.origin, rpName: tenant.displayName };
  }

  async credentials(store: TenantStore, userId: string): Promise<MfaFactorRecord[]> {
    return (await store.mfa.factors(userId)).filter((f) => f.type === 'webauthn' && f.confirmed);
  }

  async registrationOptions(tenant: TenantRecord, store: TenantStore, user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { rpID, rpName } = this.rp(tenant);
    const existing = await this.credentials(store, user.id);
    return generateRegistrationOptions({
      rpName,
      rpID,
      userName: user.username,
      userDisplayName: user.displayName ?? user.username,
      // The user handle is Gatehouse's user id: a passwordless sign-in names its user by it.
      userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
  }

  async finishRegistration(tenant: TenantRecord, store: TenantStore, user: UserRecord, response: RegistrationResponseJSON, expectedChallenge: string, origin?: RequestOrigin): Promise<boolean> {
    const rp = this.rp(tenant);
    let verification;
    try {
      verification = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.rpID, requireUserVerification: false });
    } catch {
      verification = { verified: false as const };
    }
    if (!verification.verified) {
      await this.audit.record(store, { actor: { type: 'user', id: user.id }, origin, action: 'mfa.enrollment_failed', target: { type: 'user', id: user.id }, outcome: 'failure', reason: 'webauthn_registration_invalid' });
      return false;
    }
    const { credential, credentialBackedUp } = verification.registrationInfo;
    const stored: StoredCredential = { publicKey: Buffer.from(credential.publicKey).toString('base64url'), transports: credential.transports, backedUp: credentialBackedUp };
    await store.transaction(async (trx) => {
      await trx.mfa.insertFactor({ id: credential.id, userId: user.id, type: 'webauthn', label: 'Passkey', secretSealed: this.box.seal(JSON.stringify(stored), sealContext(tenant.id, credential.id)), confirmed: true });
      await trx.mfa.advanceStep(credential.id, credential.counter);
      await this.audit.record(trx, { actor: { type: 'user', id: user.id }, origin, action: 'mfa.enrolled', target: { type: 'user', id: user.id }, outcome: 'success', details: { type: 'webauthn', factor: credential.id } });
    });
    return true;
  }

  /** Options for a sign-in: the user's credentials, or none (discoverable, passwordless). */
  async authenticationOptions(tenant: TenantRecord, store: TenantStore, user?: UserRecord): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { rpID } = this.rp(tenant);
    const allow = user ? (await this.credentials(store, user.id)).map((c) => ({ id: c.id, transports: (this.open(tenant, c).transports ?? []) as never[] })) : [];
    return generateAuthenticationOptions({ rpID, allowCredentials: allow, userVerification: user ? 'preferred' : 'required' });
  }

  private open(tenant: TenantRecord, factor: MfaFactorRecord): StoredCredential {
    return JSON.parse(this.box.openString(factor.secretSealed, sealContext(tenant.id, factor.id))) as StoredCredential;
  }

  /**
   * Verifies an assertion. With `expectedUser` (second factor) the credential must be theirs;
   * without (passwordless) the user is the one named by the credential's user handle.
   */
  async finishAuthentication(tenant: TenantRecord, store: TenantStore, response: AuthenticationResponseJSON, expectedChallenge: string, expectedUser?: UserRecord): Promise<WebAuthnResult> {
    const userId = expectedUser?.id ?? (response.response.userHandle ? Buffer.from(response.response.userHandle, 'base64url').toString('utf8') : undefined);
    const user = expectedUser ?? (userId ? await store.users.get(userId) : undefined);
    if (!user) return { ok: false, reason: 'unknown_credential' };
    const factor = (await this.credentials(store, user.id)).find((c) => c.id === response.id);
    if (!factor) return { ok: false, reason: 'unknown_credential' };
    const stored = this.open(tenant, factor);
    const rp = this.rp(tenant);
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        credential: { id: factor.id, publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')), counter: factor.lastUsedStep ?? 0, transports: stored.transports as never },
        requireUserVerification: !expectedUser,
      });
    } catch {
      return { ok: false, reason: 'verification_failed' };
    }
    if (!verification.verified) return { ok: false, reason: 'verification_failed' };
    const counter = verification.authenticationInfo.newCounter;
    // WebAuthn Level 2, 6.1.1: a counter that does not grow (unless both are zero) may be a clone.
    if (counter !== 0 || (factor.lastUsedStep ?? 0) !== 0) {
      if (!(await store.mfa.advanceStep(factor.id, counter))) return { ok: false, reason: 'counter_regressed' };
    }
    if (user.status !== 'active') return { ok: false, reason: 'account_disabled' };
    return { ok: true, user, userVerified: verification.authenticationInfo.userVerified, credentialId: factor.id };
  }
}
