// proxy/: X-Gatehouse-Identity — a short-lived HS256 JWT (RFC 7519) that tells the upstream who
// the verified caller is. The upstream verifies it with the shared key; the credential itself
// never leaves the gateway.
import jwt from 'jsonwebtoken';
import type { Principal } from '../credentials/principal.js';

export const IDENTITY_HEADER = 'x-gatehouse-identity';

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
}

export function identitySigner(opts: IdentityOptions) {
  return (p: Principal): string => {
    const claims: IdentityClaims = { sub: p.userId, org: p.organizationId, login: p.loginName, kind: p.authKind, tid: p.tokenId };
    return jwt.sign(claims, opts.secret, {
      algorithm: 'HS256',
      expiresIn: opts.ttlSeconds,
      issuer: opts.issuer,
      audience: opts.audience,
    });
  };
}

/** For upstream services (and the sample upstream): verifies the header, or throws. */
export function verifyIdentity(token: string, opts: Omit<IdentityOptions, 'ttlSeconds'>): IdentityClaims & jwt.JwtPayload {
  return jwt.verify(token, opts.secret, {
    algorithms: ['HS256'],
    issuer: opts.issuer,
    audience: opts.audience,
  }) as IdentityClaims & jwt.JwtPayload;
}
