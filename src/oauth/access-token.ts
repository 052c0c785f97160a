// oauth/: RFC 9068 access tokens — signed here, verified locally at the edge (no store look-up
// for the token itself: only its grant is looked up, through the cache tiers).
// /!\ Hot path (verify).
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, type VerifyOutcome } from '../tokens/access-token-format.js';
import type { SigningKeys } from './keys.js';

// The token's format (claims, typ, the shape test) is on the ground floor, where the edge reads it too.
export { ACCESS_TOKEN_TYPE, looksLikeJwt, type AccessTokenClaims, type VerifyOutcome } from '../tokens/access-token-format.js';

/** Allowed clock skew between instances when checking exp/nbf/iat. */
export const LEEWAY_SECONDS = 30;

export interface AccessTokenSettings {
  issuer: () => string;
  audience: string;
  ttlSeconds: number;
}

export function signAccessToken(keys: SigningKeys, s: AccessTokenSettings, t: { userId: string; clientId: string; scope: string; grantId: string }): string {
  const { current } = keys;
  return jwt.sign({ client_id: t.clientId, scope: t.scope, grant_id: t.grantId }, current.privateKey, {
    algorithm: current.alg,
    keyid: current.kid,
    header: { typ: ACCESS_TOKEN_TYPE, alg: current.alg, kid: current.kid },
    issuer: s.issuer(),
    audience: s.audience,
    subject: t.userId,
    jwtid: randomUUID(),
    expiresIn: s.ttlSeconds,
  });
}

/** Signature (by kid, ES256/RS256 only — never `none` or HMAC), typ, iss, aud, exp with leeway. */
export function verifyAccessToken(keys: SigningKeys, s: AccessTokenSettings, token: string, now = Date.now()): VerifyOutcome {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') return { ok: false, reason: 'malformed' };
  const { header } = decoded;
  if (header.typ?.toLowerCase() !== ACCESS_TOKEN_TYPE && header.typ?.toLowerCase() !== `application/${ACCESS_TOKEN_TYPE}`) return { ok: false, reason: 'invalid' };
  const key = header.kid ? keys.verifyKeys.get(header.kid) : undefined;
  if (!key || header.alg !== key.alg) return { ok: false, reason: 'invalid' };
  try {
    const claims = jwt.verify(token, key.key, {
      algorithms: [key.alg],
      issuer: s.issuer(),
      audience: s.audience,
      clockTolerance: LEEWAY_SECONDS,
      clockTimestamp: Math.floor(now / 1000),
    }) as AccessTokenClaims;
    if (typeof claims.sub !== 'string' || typeof claims.grant_id !== 'string' || typeof claims.scope !== 'string' || typeof claims.client_id !== 'string' || typeof claims.exp !== 'number') {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, claims };
  } catch (e) {
    return { ok: false, reason: (e as Error).name === 'TokenExpiredError' ? 'expired' : 'invalid' };
  }
}
