import type Provider from 'oidc-provider';

/** What `provider.interactionDetails()` returns (oidc-provider's Interaction). */
export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Authentication context class references Gatehouse issues (OIDC Core 2, `acr`). */
export const ACR = {
  /** One factor (a password, or a partner that did not vouch for more). */
  singleFactor: 'urn:gatehouse:acr:1fa',
  /** Two factors. */
  multiFactor: 'urn:gatehouse:acr:2fa',
} as const;

/** The login-prompt check that asks for a second factor when acr_values name it. */
export const STEP_UP_REASON = 'acr_values_second_factor';

/**
 * A login prompt caused only by a request for a higher `acr` (acr_values, or an essential acr
 * claim) on an existing session: only the missing factor is asked, not the password again.
 */
export function isStepUpOnly(reasons: string[] | undefined): boolean {
  const stepUp = new Set([STEP_UP_REASON, 'essential_acr', 'essential_acrs']);
  return Boolean(reasons?.length) && reasons!.every((r) => stepUp.has(r));
}
