import { burnPasswordCheck, verifyPassword } from '../../crypto/passwords.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { ConnectorSource } from '../registry.js';
import type { PasswordCheckResult, PasswordConnector } from '../connector.js';

/**
 * Local accounts: users stored in Gatehouse with an argon2id password hash. An unknown user
 * still costs one hash verification, so that timing does not tell who has an account.
 */
export class LocalPasswordConnector implements PasswordConnector {
  readonly kind = 'password' as const;
  readonly id = 'local';
  readonly displayName = 'Local accounts';

  constructor(private readonly store: TenantStore) {}

  async checkPassword(username: string, password: string): Promise<PasswordCheckResult> {
    const user = await this.store.users.findByUsername(username, 'local');
    if (!user || !user.passwordHash) {
      await burnPasswordCheck(password);
      return { ok: false, reason: 'unknown_user' };
    }
    if (!(await verifyPassword(user.passwordHash, password))) return { ok: false, reason: 'invalid_credentials', detail: 'password mismatch' };
    if (user.status !== 'active') return { ok: false, reason: 'account_disabled', detail: `user status ${user.status}` };
    const groups = await this.store.groups.effectiveGroupsOfUser(user.id);
    return {
      ok: true,
      identity: {
        source: 'local',
        externalId: user.id,
        username: user.username,
        email: user.email,
        emailVerified: user.emailVerified,
        givenName: user.givenName,
        familyName: user.familyName,
        displayName: user.displayName,
        phone: user.phone,
        groups: groups.map((g) => ({ externalId: g.id, name: g.name, displayName: g.displayName })),
        roles: Array.isArray(user.attributes.roles) ? (user.attributes.roles as string[]) : [],
        authentication: { amr: ['pwd'] },
      },
    };
  }
}

export const localConnectorSource: ConnectorSource = {
  type: 'local',
  async connectorsFor(_tenant, store) {
    return [new LocalPasswordConnector(store)];
  },
};
