import { scimError } from './scim-error.js';

/**
 * Versions and ETags (RFC 7644 section 3.14): `meta.version` and the ETag header carry the
 * resource's version counter as a weak entity tag, `W/"<version>"`. Weak, because the
 * representation also holds derived values (a user's groups) that change without a new version.
 */
export const etagOf = (version: number) => `W/"${version}"`;

/** The entity tags of an If-Match or If-None-Match header ("*" matches any). */
function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean).map((t) => t.replace(/^W\//, ''));
}

/** RFC 7232 3.1 with weak comparison (RFC 7644 allows it): 412 when no tag matches the current version. */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (!header) return;
  const wanted = tags(header);
  if (wanted.includes('*') || wanted.includes(`"${version}"`)) return;
  throw scimError('scim.precondition_failed', undefined, 'the resource has changed since it was read (If-Match did not match its version)', 412);
}

/** RFC 7232 3.2: a GET whose If-None-Match matches is answered 304. */
export function ifNoneMatchHits(header: string | undefined, version: number): boolean {
  if (!header) return false;
  const wanted = tags(header);
  return wanted.includes('*') || wanted.includes(`"${version}"`);
}
