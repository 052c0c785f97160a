// oauth/: the scopes an application may ask for (RFC 6749 §3.3), in the permission vocabulary of
// permissions/ (issue 20): `api` (everything the user may do), `api:read` (every family, read) and
// each permission by name (`envelope:read`, `template:write`, ...). Anything else is invalid_scope.
// One form for a scope string: each name once, sorted — the form the store widens a grant in
// (store/oauth-store.ts authorize), so a grant's, a code's and a token's scopes compare as strings.
import { FAMILIES, grantsAllow, grantsOfScope, isOAuthScope } from '../permissions/vocabulary.js';

/** What an authorization request without `scope` asks for. */
export const DEFAULT_SCOPE = 'api:read';

/** The names of a scope parameter: space-separated (§3.3); repeated spaces are forgiven. */
const namesOf = (scope: string): string[] => scope.split(' ').filter(Boolean);

/** A requested scope in its one form; undefined when it is empty or names a scope outside the vocabulary. */
export function normalizeScope(requested: string): string | undefined {
  const names = namesOf(requested);
  if (names.length === 0 || !names.every(isOAuthScope)) return undefined;
  return [...new Set(names)].sort().join(' ');
}

/**
 * Whether `granted` covers everything `asked` asks for (both space-separated): a refresh may keep or
 * narrow its scope, never widen it (RFC 6749 §6). `api` covers everything, including calls outside
 * the vocabulary, so only `api` covers `api`; otherwise write covers read (`envelope:write` covers
 * `envelope:read`, `api:read` covers `template:read`). An unknown or empty `asked` is covered by nothing.
 */
export function scopeIncludes(granted: string, asked: string): boolean {
  const names = namesOf(asked);
  if (names.length === 0 || !names.every(isOAuthScope)) return false;
  const has = namesOf(granted);
  if (has.includes('api')) return true;
  if (names.includes('api')) return false;
  const g = grantsOfScope(granted);
  const a = grantsOfScope(names.join(' '));
  return FAMILIES.every((family) => {
    const access = a[family];
    return access === undefined || grantsAllow(g, { family, access });
  });
}
