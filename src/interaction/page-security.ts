/**
 * The Content-Security-Policy of the sign-in pages. Their forms post to Gatehouse, and the
 * redirects that follow a successful post end at the app's redirect URI (oidc-provider has
 * already checked it against the app's registration); browsers apply `form-action` to those
 * redirects too, so the app's origin is allowed, and nothing else.
 */
export function interactionPageCsp(redirectUri: string | undefined, extra: { formTargets?: string[]; scriptNonce?: string; scripts?: boolean } = {}): string {
  const targets = new Set<string>(["'self'"]);
  for (const uri of [redirectUri, ...(extra.formTargets ?? [])]) {
    if (!uri) continue;
    try {
      targets.add(new URL(uri).origin);
    } catch {
      // not a URL: oidc-provider refuses such a redirect_uri before any page is shown
    }
  }
  return [
    "default-src 'none'",
    extra.scriptNonce ? `script-src 'nonce-${extra.scriptNonce}'` : extra.scripts ? "script-src 'self'" : undefined,
    "style-src 'self'",
    "img-src 'self' https: data:",
    `form-action ${[...targets].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ]
    .filter(Boolean)
    .join('; ');
}
