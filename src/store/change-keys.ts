// Cache keys, shared by the writers (which append them to the change feed) and the cache tiers
// (which evict them). One function per record kind, so a key is spelt in exactly one place.
export const cacheKeys = {
  token: (hash: string) => `token:${hash}`,
  user: (id: string) => `user:${id}`,
  role: (id: string) => `role:${id}`,
  organization: (id: string) => `org:${id}`,
  orgToken: (hash: string) => `orgtoken:${hash}`,
  /** A lower-cased login name → user id (written when the user is created: it may be cached as absent). */
  login: (loginKey: string) => `login:${loginKey}`,
  /** An OAuth grant: evicted when revoked, so its live access tokens stop on the next request. */
  grant: (id: string) => `grant:${id}`,
  /** Which legacy organization-key forms exist (cache/legacy-org-keys.ts): appended by an import and by deleting an imported key. */
  legacyOrgKeyForms: () => 'orgkeyforms',
};
