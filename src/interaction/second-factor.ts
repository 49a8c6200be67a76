import type { Context } from 'koa';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import type { InteractionState, PendingLogin } from './interaction-state.js';
import type { InteractionDetails } from './interaction-types.js';

export interface SecondFactorContext {
  ctx: Context;
  tenant: TenantRecord;
  store: TenantStore;
  user: UserRecord;
  details: InteractionDetails;
  state: InteractionState;
  pending: PendingLogin;
}

/**
 * The step between the first factor (password, directory, partner) and consent. It decides
 * whether this sign-in needs a second factor, under the tenant's policy and what the app asked
 * for (acr_values, an essential acr claim), and if so takes over the interaction with its own
 * pages, finishing it with `finishLogin` once satisfied.
 */
export interface SecondFactorStep {
  /** `finish`: no second factor needed now. `redirect`: go to the second-factor page. */
  afterFirstFactor(input: SecondFactorContext): Promise<{ next: 'finish'; pending: PendingLogin } | { next: 'redirect'; location: string }>;
}

