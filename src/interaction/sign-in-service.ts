import type { Logger } from '../logging/logger.js';
import type { AuditLog, RequestOrigin } from '../audit/audit-log.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { ExternalIdentity, PasswordFailureReason } from '../connectors/connector.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import { linkExternalIdentity } from '../directory/identity-linker.js';
import type { SignInThrottle } from './sign-in-throttle.js';

export type SignInFailure = 'invalid_credentials' | 'account_disabled' | 'locked_out' | 'throttled' | 'directory_unavailable' | 'empty_password';

export type SignInOutcome =
  | { ok: true; user: UserRecord; identity: ExternalIdentity; connectorId: string }
  | { ok: false; reason: SignInFailure; retryAfterSeconds?: number | undefined };

/** What people are told for each failure: one message for "no such user" and "wrong password". */
const PUBLIC_REASON: Record<PasswordFailureReason, SignInFailure> = {
  unknown_user: 'invalid_credentials',
  invalid_credentials: 'invalid_credentials',
  account_disabled: 'account_disabled',
  account_locked: 'account_disabled',
  account_expired: 'account_disabled',
  password_expired: 'account_disabled',
  directory_unavailable: 'directory_unavailable',
};

/**
 * The first factor with a password: throttling, then the tenant's password connectors in order
 * (local accounts first, then each directory connection); the first connector that knows the
 * user decides. A success is linked into the tenant directory (just in time). Every attempt is
 * audited with the precise reason; the person sees only the public one.
 */
export class SignInService {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly throttle: SignInThrottle,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async withPassword(tenant: TenantRecord, store: TenantStore, username: string, password: string, origin: RequestOrigin): Promise<SignInOutcome> {
    const settings = tenant.settings.signIn.throttle;
    const fail = async (reason: SignInFailure, precise: string, extra: Record<string, unknown> = {}, retryAfterSeconds?: number): Promise<SignInOutcome> => {
      await this.audit.record(store, {
        actor: { type: 'anonymous' },
        origin,
        action: 'signin.failed',
        target: { type: 'user', id: (extra.userId as string | undefined) ?? username },
        outcome: 'failure',
        reason: precise,
        details: { username, ...extra },
      });
      return { ok: false, reason, retryAfterSeconds };
    };

    const verdict = await this.throttle.check(store, settings, username, origin.clientIp);
    if (!verdict.allowed) return fail(verdict.reason, verdict.reason, { by: verdict.key }, verdict.retryAfterSeconds);
    // An unauthenticated LDAP bind "succeeds" with an empty password: never let one through.
    if (password.length === 0) return fail('empty_password', 'empty_password');

    let failure: { reason: PasswordFailureReason; detail?: string | undefined; connector: string } | undefined;
    for (const connector of await this.registry.passwordConnectors(tenant, store)) {
      const result = await connector.checkPassword(username, password, { tenantId: tenant.id, logger: this.logger, origin });
      if (result.ok) {
        const user = result.identity.source === 'local' ? await store.users.get(result.identity.externalId) : (await linkExternalIdentity(store, result.identity)).user;
        if (!user || user.status !== 'active') {
          await this.countFailure(store, settings, username, origin);
          return fail('account_disabled', 'account_disabled', { connector: connector.id, userId: user?.id, detail: 'disabled in Gatehouse' });
        }
        await this.throttle.recordSuccess(store, username);
        await this.audit.record(store, {
          actor: { type: 'user', id: user.id },
          origin,
          action: 'signin.succeeded',
          target: { type: 'user', id: user.id },
          outcome: 'success',
          details: { username, connector: connector.id, amr: result.identity.authentication.amr },
        });
        return { ok: true, user, identity: result.identity, connectorId: connector.id };
      }
      if (result.reason === 'unknown_user') continue;
      failure = { reason: result.reason, detail: result.detail, connector: connector.id };
      // An unavailable directory does not know the user either way: another one may.
      if (result.reason === 'directory_unavailable') continue;
      break;
    }
    const reason = failure?.reason ?? 'unknown_user';
    if (reason !== 'directory_unavailable') await this.countFailure(store, settings, username, origin);
    return fail(PUBLIC_REASON[reason], reason, { connector: failure?.connector, detail: failure?.detail });
  }

  private async countFailure(store: TenantStore, settings: TenantRecord['settings']['signIn']['throttle'], username: string, origin: RequestOrigin) {
    const locked = await this.throttle.recordFailure(store, settings, username, origin.clientIp);
    for (const key of locked) {
      await this.audit.record(store, {
        actor: { type: 'anonymous' },
        origin,
        action: 'signin.locked_out',
        target: { type: key === 'account' ? 'user' : 'client_ip', id: key === 'account' ? username : origin.clientIp },
        outcome: 'failure',
        reason: key === 'account' ? 'too_many_failures_for_account' : 'too_many_failures_from_ip',
        details: { lockoutMinutes: settings.lockoutMinutes, after: key === 'account' ? settings.lockoutAfter : settings.ipLockoutAfter },
      });
    }
  }
}
