// settings/: a session handed over by the platform — a signed JWT (RFC 7519) in a cookie, checked
// with the configured HS256 secret or RS/ES/PS public key, issuer and audience. It names the user by
// login; Gatehouse then starts its own session, so the rest of the settings API sees one kind.
import jwt from 'jsonwebtoken';
import type { Config } from '../config/schema.js';

export type PlatformSessionVerifier = (cookieValue: string) => string | undefined;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;

/** Returns the login name the cookie vouches for, or undefined; none when neither key is configured. */
export function platformSessionVerifier(cfg: Config['settings']['platformSession']): PlatformSessionVerifier | undefined {
  if (!cfg.secret && !cfg.publicKey) return undefined;
  const key = cfg.publicKey || cfg.secret;
  const options: jwt.VerifyOptions = {
    algorithms: cfg.publicKey ? [...ASYMMETRIC] : ['HS256'],
    ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience ? { audience: cfg.audience } : {}),
  };
  return (value) => {
    try {
      const claims = jwt.verify(value, key, { ...options, complete: false });
      // A hand-over without an expiry would be a session that never ends.
      if (typeof claims !== 'object' || !('exp' in claims) || claims.exp === undefined) return undefined;
      const login = (claims as Record<string, unknown>)[cfg.loginClaim];
      return typeof login === 'string' && login.length > 0 ? login : undefined;
    } catch {
      return undefined;
    }
  };
}
