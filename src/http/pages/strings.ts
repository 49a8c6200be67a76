/**
 * Every string people read on Gatehouse's pages, in one place, keyed by a stable id, so a
 * translation is one more table. `{name}` placeholders are filled by `t()`.
 */
export const STRINGS = {
  en: {
    'page.lang': 'en',
    'error.title': 'Something went wrong',
    'error.reference': 'Reference',
    'error.reference_help': 'If you contact support, give them this reference.',
    'error.generic': 'We could not complete your request. Please try again.',
    'error.back': 'Go back',
    'tenant.not_found.title': 'Organisation not found',
    'tenant.not_found.body': 'There is no organisation at this address. Check the link you followed.',
    'tenant.suspended.title': 'Sign-in unavailable',
    'tenant.suspended.body': 'This organisation is suspended. Contact its administrator.',
    'not_found.title': 'Page not found',
    'not_found.body': 'There is nothing at this address.',
    'unavailable.title': 'Temporarily unavailable',
    'unavailable.body': 'The service is temporarily unavailable. Please try again in a few minutes.',
    'saml.redirecting.title': 'Continuing',
    'saml.redirecting.body': 'Your browser is being sent on. If nothing happens, press Continue.',
    'saml.continue': 'Continue',
    'saml.failed.title': 'Sign-in with your organisation failed',
    'saml.failed.body': 'Your organisation\'s sign-in could not be accepted. Try again; if it keeps failing, contact support.',
    'saml.account_disabled.body': 'Your account here is disabled. Contact your administrator.',
    'saml.logout_failed.title': 'Sign-out could not be completed',
    'saml.logout_failed.body': 'The sign-out message could not be accepted. Close your browser to end your session.',
    'saml.signed_out.title': 'Signed out',
    'saml.signed_out.body': 'You have been signed out.',
  },
} as const;

export type Locale = keyof typeof STRINGS;
export type StringId = keyof (typeof STRINGS)['en'];

export function t(id: StringId, params: Record<string, string | number> = {}, locale: Locale = 'en'): string {
  const template: string = STRINGS[locale]?.[id] ?? STRINGS.en[id];
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => String(params[k] ?? `{${k}}`));
}
