import { randomBytes } from 'node:crypto';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * What Gatehouse remembers about one pending interaction (keyed by oidc-provider's interaction
 * uid) between the pages of a sign-in: its CSRF token, the username typed on the first page, a
 * first factor that is waiting for a second one. Kept in the store with the interaction's
 * lifetime, so any server process can serve the next page.
 */
export interface InteractionState {
  csrf: string;
  username?: string | undefined;
  /** Show the sign-in form even though the prompt is select_account ("use another account"). */
  forceLogin?: boolean | undefined;
  /** A first factor that succeeded and awaits a second one (issue: two-factor authentication). */
  pendingLogin?: PendingLogin | undefined;
  [extension: string]: unknown;
}

export interface PendingLogin {
  accountId: string;
  amr: string[];
  acr: string;
  source: string;
  /** Epoch seconds of the first factor. */
  authTime: number;
  /** Non-secret notes from the connector (the partner's AuthnContextClassRef, multi-factor claim). */
  classRef?: string | undefined;
  multiFactor?: boolean | undefined;
}

const MODEL = 'GatehouseInteraction';

export class InteractionStateStore {
  constructor(
    private readonly store: TenantStore,
    private readonly ttlSeconds: number,
  ) {}

  async load(uid: string): Promise<InteractionState> {
    const found = await this.store.oidc.find(MODEL, uid);
    if (found) return found.payload as InteractionState;
    const fresh: InteractionState = { csrf: randomBytes(24).toString('base64url') };
    await this.save(uid, fresh);
    return fresh;
  }

  async save(uid: string, state: InteractionState): Promise<void> {
    await this.store.oidc.upsert(MODEL, uid, state, this.ttlSeconds);
  }

  async clear(uid: string): Promise<void> {
    await this.store.oidc.destroy(MODEL, uid);
  }
}
