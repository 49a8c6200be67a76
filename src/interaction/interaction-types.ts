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
