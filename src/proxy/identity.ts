// proxy/: X-Gatehouse-Identity — a short-lived HS256 JWT (RFC 7519) that tells the upstream who
// the verified caller is (user, organization, login, credential kind and id) and what the call
// may do (`perms`: its effective permissions in the vocabulary of permissions/; `scope`: `api:read`
// when that is reads only), so an upstream can hold a restricted caller to them itself. The upstream verifies it with the shared key; the credential itself never leaves
// the gateway.
// /!\ Hot path: the key is imported once (jsonwebtoken re-parses a string secret on every call,
// ~60× slower), and a principal's signed identity is reused for half its lifetime.
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../credentials/principal.js';
import { FAMILIES, permissionNames, type Grants } from '../permissions/vocabulary.js';

export const IDENTITY_HEADER = 'x-gatehouse-identity';

/**
 * What the call may do, in short: `api` = it may write something; `api:read` = reads only (an OAuth
 * token granted `api:read`, or a token restricted to read permissions). `perms` says exactly which.
 */
export type ApiScope = 'api' | 'api:read';

export interface IdentityOptions {
  secret: string;
  ttlSeconds: number;
  issuer: string;
  audience: string;
}

export interface IdentityClaims {
  sub: string;
  org: string;
  login: string;
  kind: Principal['authKind'];
  tid: string;
  /** In short: `api:read` = reads only (an OAuth token or a restricted token granted no more), `api` = it may write. */
  scope: ApiScope;
  /**
   * The credential's effective permissions, space-separated in the permission vocabulary
   * (`envelope:write template:read`; every family for an unrestricted token), so an upstream can
   * check again (issue 20).
   */
  perms: string;
}

const importedKeys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = importedKeys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret));
    importedKeys.set(secret, key);
  }
  return key;
}

type PermissionClaims = Pick<IdentityClaims, 'scope' | 'perms'>;
const claimsByGrants = new WeakMap<Grants, PermissionClaims>();
/** The grants as the `perms` and `scope` claims, kept per grants object (one per cached token record or scope). */
function permissionClaims(g: Grants): PermissionClaims {
  let claims = claimsByGrants.get(g);
  if (claims === undefined) {
    claims = { perms: permissionNames(g).join(' '), scope: FAMILIES.some((f) => g[f] === 'write') ? 'api' : 'api:read' };
    claimsByGrants.set(g, claims);
  }
  return claims;
}

export function identitySigner(opts: IdentityOptions) {
  const key = secretKey(opts.secret);
  // Upstreams always get at least half of the lifetime to verify it. Judged on the wall clock the
  // JWT's own iat/exp use, not on a monotonic one, so a clock step never hands out an expired token.
  const reuseSeconds = opts.ttlSeconds / 2;
  const signed = new LRUCache<string, { token: string; reuseUntil: number }>({ max: 10_000 });
  return (p: Principal): string => {
    const { perms, scope } = permissionClaims(p.grants);
    const cacheKey = `${p.authKind}|${perms}|${p.tokenId}|${p.userId}|${p.organizationId}|${p.loginName}`;
    const nowSeconds = Date.now() / 1000;
    const hit = signed.get(cacheKey);
    if (hit && nowSeconds < hit.reuseUntil && nowSeconds >= hit.reuseUntil - reuseSeconds) return hit.token;
    const claims: IdentityClaims = { sub: p.userId, org: p.organizationId, login: p.loginName, kind: p.authKind, tid: p.tokenId, scope, perms };
    const token = jwt.sign(claims, key, { algorithm: 'HS256', expiresIn: opts.ttlSeconds, issuer: opts.issuer, audience: opts.audience });
    signed.set(cacheKey, { token, reuseUntil: nowSeconds + reuseSeconds });
    return token;
  };
}

/** For upstream services (and the sample upstream): verifies the header, or throws. */
export function verifyIdentity(token: string, opts: Omit<IdentityOptions, 'ttlSeconds'>): IdentityClaims & jwt.JwtPayload {
  return jwt.verify(token, secretKey(opts.secret), {
    algorithms: ['HS256'],
    issuer: opts.issuer,
    audience: opts.audience,
  }) as IdentityClaims & jwt.JwtPayload;
}
