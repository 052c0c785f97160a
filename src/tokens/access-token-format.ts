// tokens/: what an OAuth access token is at the edge (RFC 9068, the JWT profile for access
// tokens): its claims, its `typ`, the outcome of verifying one, and the cheap shape test that
// tells it from Gatehouse's opaque tokens. Pure, no keys: signing and verifying live in
// oauth/access-token.ts, and the authorization server hands its verifier to the pipeline.
// /!\ Hot path (looksLikeJwt).

/** The JWT `typ` of an access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  /** The grant this token was issued under: the edge checks it is still in force. */
  grant_id: string;
}

export type VerifyOutcome = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'malformed' | 'expired' | 'invalid' };

/** Verifies an access token locally (signature, typ, iss, aud, exp): no I/O. */
export type AccessTokenVerifier = (token: string) => VerifyOutcome;

/** A compact JWS: three base64url parts, header first. Gatehouse opaque tokens never look like this. */
export function looksLikeJwt(value: string): boolean {
  return value.startsWith('eyJ') && value.split('.').length === 3;
}
