import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { TenantPool, TenantRuntime } from '../tenants/tenant-pool.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { readForm } from '../http/form-body.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { ACCOUNT_CLIENT_ID, accountCallbackUrl } from './account-client.js';

export interface AccountSession {
  runtime: TenantRuntime;
  sessionId: string;
  /** The session's authentication level (`urn:gatehouse:acr:2fa` after a second factor). */
  acr: string | undefined;
  user: UserRecord;
  csrf: string;
  base: string;
}

/**
 * Who is looking at the account page: the tenant's single sign-on session (oidc-provider's
 * session cookie) and its user. Forms of the page carry a CSRF token derived from the session
 * id with a key derived from the master key: nothing to store, and useless in another session.
 */
export class AccountSessions {
  constructor(
    private readonly services: Services,
    private readonly pool: TenantPool,
  ) {}

  private csrfFor(tenantId: string, sessionId: string): string {
    const key = this.services.box.deriveKeys(`account-csrf|tenant:${tenantId}`)[0]!;
    return createHmac('sha256', key).update(sessionId).digest('base64url');
  }

  async current(ctx: Context): Promise<AccountSession | undefined> {
    const runtime = await this.pool.runtimeFor(ctx.state.tenant);
    const session = await runtime.provider.Session.get(ctx as never);
    if (!session?.accountId) return undefined;
    const user = await runtime.store.users.get(session.accountId);
    if (!user || user.status !== 'active') return undefined;
    return { runtime, sessionId: session.jti, acr: session.acr, user, csrf: this.csrfFor(runtime.tenant.id, session.jti), base: `/t/${runtime.tenant.id}/account` };
  }

  /** For POSTs: the signed-in person and the form, after checking its CSRF token. */
  async requireForm(ctx: Context): Promise<{ account: AccountSession; fields: Record<string, string> }> {
    const account = await this.current(ctx);
    if (!account) throw new GatehouseError('account.signed_out', 'you are not signed in', { status: 401 });
    const fields = await readForm(ctx);
    if (!constantTimeEqual(fields.csrf ?? '', account.csrf)) {
      throw new GatehouseError('account.csrf_failed', 'this form expired; reload the page and try again', { status: 403 });
    }
    return { account, fields };
  }

  /** No session: sign in through the tenant's own authorization endpoint as the account client. */
  startSignIn(ctx: Context): void {
    const issuer = this.pool.issuerFor(ctx.state.tenant.id);
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: accountCallbackUrl(issuer),
      state: randomBytes(16).toString('base64url'),
      // PKCE is required of every client; the account page only needs the session, not the code.
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    ctx.redirect(`/t/${ctx.state.tenant.id}/auth?${params}`);
  }
}
