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
    'directory_unavailable.body': 'The directory that checks your password is unavailable. Please try again later.',
    'signin.title': 'Sign in',
    'signin.to_app': 'to continue to {app}',
    'signin.username': 'Username or email',
    'signin.password': 'Password',
    'signin.next': 'Next',
    'signin.submit': 'Sign in',
    'signin.not_you': 'Not {username}? Use another account',
    'signin.or': 'Or sign in with',
    'signin.with_connector': 'Sign in with {name}',
    'signin.cancel': 'Cancel and return to the app',
    'signin.error.invalid_credentials': 'Incorrect username or password.',
    'signin.error.account_disabled': 'You cannot sign in with this account. Contact your administrator.',
    'signin.error.locked_out': 'Too many failed attempts. Try again in {minutes} minutes.',
    'signin.error.throttled': 'Too many failed attempts. Wait {seconds} seconds and try again.',
    'signin.error.empty_password': 'Enter your password.',
    'signin.error.empty_username': 'Enter your username or email.',
    'signin.error.csrf': 'Your form expired. Please try again.',
    'signin.error.directory_unavailable': 'The directory is unavailable right now. Try again later.',
    'interaction.expired.title': 'Sign-in expired',
    'interaction.expired.body': 'This sign-in took too long or was already completed. Return to the app and start again.',
    'consent.title': 'Allow access',
    'consent.intro': '{app} wants to:',
    'consent.signed_in_as': 'Signed in as {username}',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',
    'consent.scope.openid': 'Sign you in',
    'consent.scope.profile': 'See your name and username',
    'consent.scope.email': 'See your email address',
    'consent.scope.phone': 'See your phone number',
    'consent.scope.address': 'See your postal address',
    'consent.scope.groups': 'See the groups you are in',
    'consent.scope.roles': 'See your roles',
    'consent.scope.offline_access': 'Stay signed in to it when you are away',
    'consent.scope.api': 'Use {api} on your behalf: {scopes}',
    'consent.claims': 'See these details: {claims}',
    'select_account.title': 'Choose an account',
    'select_account.continue': 'Continue as {username}',
    'select_account.other': 'Use another account',
    'logout.title': 'Sign out',
    'logout.question': 'Do you want to sign out of {tenant}?',
    'logout.question_app': 'Do you want to sign out of {tenant}? You are leaving {app}.',
    'logout.yes': 'Sign out',
    'logout.no': 'Stay signed in',
    'signed_out.title': 'Signed out',
    'signed_out.body': 'You are signed out.',
    'signed_out.body_app': 'You are signed out of {app} and every app of {tenant} that used this sign-in.',
    'account.title': 'Your account',
    'account.profile': 'Profile',
    'account.sessions': 'Signed-in sessions',
    'account.session_current': 'this browser',
    'account.session_started': 'Signed in {time}',
    'account.session_end': 'Sign out this session',
    'account.apps': 'Apps you allowed',
    'account.app_revoke': 'Remove access',
    'account.none': 'None',
    'account.sign_out': 'Sign out everywhere in this browser',
    'account.field.username': 'Username',
    'account.field.name': 'Name',
    'account.field.email': 'Email',
    'account.field.phone': 'Phone',
    'account.field.groups': 'Groups',
  },
} as const;

export type Locale = keyof typeof STRINGS;
export type StringId = keyof (typeof STRINGS)['en'];

export function t(id: StringId, params: Record<string, string | number> = {}, locale: Locale = 'en'): string {
  const template: string = STRINGS[locale]?.[id] ?? STRINGS.en[id];
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => String(params[k] ?? `{${k}}`));
}

/** The first supported locale among `ui_locales` (OIDC Core 3.1.2.1: space-separated BCP47 tags). */
export function negotiateLocale(uiLocales: string | undefined): Locale {
  for (const tag of (uiLocales ?? '').split(' ').filter(Boolean)) {
    const base = tag.toLowerCase().split('-')[0] as Locale;
    if (base in STRINGS) return base;
  }
  return 'en';
}
