// observability/: the bounded vocabularies that access-log fields and metric labels take, named
// once on this floor. The layers that produce the values (the cache tiers, the credential kinds)
// take their types from here, so observability never imports a floor above it.

/** The kinds of credential a call can be authenticated by (access log `authKind`, metric label `kind`). */
export type AuthKind = 'api-token' | 'org-token' | 'oauth';

/** The deepest cache tier a look-up reached (access log `cacheTier`, metric label `tier`). */
export type CacheTier = 'l1' | 'l2' | 'store';
