import type { SecondFactorStep } from '../interaction/second-factor.js';
import { ACR, type InteractionDetails } from '../interaction/interaction-types.js';
import type { MfaService } from './mfa-service.js';

/**
 * Did the app ask for a second factor? Either `acr_values` naming the two-factor level, or an
 * essential `acr` claim (OIDC Core 5.5.1.1) whose value(s) include it.
 */
export function appAsksForSecondFactor(details: InteractionDetails): boolean {
  const params = details.params as Record<string, unknown>;
  if (String(params.acr_values ?? '').split(' ').includes(ACR.multiFactor)) return true;
  try {
    const claims = typeof params.claims === 'string' ? (JSON.parse(params.claims) as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } }) : undefined;
    const acr = claims?.id_token?.acr;
    return Boolean(acr?.essential && (acr.value === ACR.multiFactor || acr.values?.includes(ACR.multiFactor)));
  } catch {
    return false;
  }
}

/**
 * The two-factor step of the sign-in: asked when the tenant's policy requires it for this person
 * (directly or through a group), when the person enrolled a factor (policy `optional`), or when
 * the app asks for it (step-up). A partner's MFA counts when its connection is trusted for it.
 * People who must use a factor and have none are led through enrollment.
 */
export function twoFactorStep(mfa: MfaService): SecondFactorStep {
  return {
    async afterFirstFactor({ tenant, store, user, details, pending }) {
      if (pending.multiFactor) {
        return { next: 'finish', pending: { ...pending, amr: [...new Set([...pending.amr, 'mfa'])], acr: ACR.multiFactor } };
      }
      const groups = (await store.groups.effectiveGroupsOfUser(user.id)).map((g) => g.name);
      const requirement = mfa.requirement(tenant.settings.mfa, groups);
      const factors = await mfa.confirmedFactors(store, user.id);
      const base = `/t/${tenant.id}/interaction/${details.uid}/mfa`;
      const asked = appAsksForSecondFactor(details);
      // A person with a factor is asked for it unless the tenant turned two-factor off (and the
      // app did not ask); one without is led through enrollment when policy or app require it,
      // unless the tenant turned two-factor off: then the ID token's acr says one factor.
      if (factors.length > 0 && (requirement !== 'off' || asked)) return { next: 'redirect', location: base };
      if (requirement === 'required' || (asked && requirement !== 'off')) return { next: 'redirect', location: `${base}/enroll` };
      return { next: 'finish', pending };
    },
  };
}
