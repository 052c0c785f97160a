// oauth/endpoints: the token endpoint (RFC 6749 §3.2; alias /ApiToken/Retrieve) for the two grants
// Gatehouse issues: authorization_code (§4.1.3, with PKCE, RFC 7636 §4.6) and refresh_token (§6,
// rotated on every use). A request is checked whole before anything is written, so a refused one
// spends nothing; a replayed code or a reused refresh token, presented by the client it was issued
// to, revokes the whole grant (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Answers: an RFC 9068 access token
// and a new refresh token. Browser-based public clients call it from their redirect URIs' origins
// (CORS, cors.ts); another method than POST is 405.
import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import { oauthGrantsRevoked } from '../../observability/metrics.js';
import { checkTokenShape } from '../../tokens/token-format.js';
import { signAccessToken, type AccessTokenSettings } from '../access-token.js';
import { invalidGrant, invalidRequest, invalidScope, methodNotAllowed, unsupportedGrantType } from '../errors.js';
import type { SigningKeys } from '../keys.js';
import { normalizeScope, scopeIncludes } from '../scopes.js';
import { s256, type OAuthStore } from '../../store/oauth-store.js';
import type { AuthenticateClient } from './client-auth.js';
import { clientCors } from './cors.js';
import { countTokenRequest, FORM, noStore, params, TOKEN_PATHS } from './http.js';

const SYSTEM = { actor: 'system', source: 'oauth' };
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Constant-time comparison of two S256 challenges (base64url, 43 characters). */
function sameChallenge(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface TokenEndpointDeps {
  oauth: Pick<OAuthStore, 'publicRedirectUris' | 'findCode' | 'redeemCode' | 'findGrant' | 'findRefreshToken' | 'rotateRefreshToken' | 'revokeGrant'>;
  authenticateClient: AuthenticateClient;
  keys: SigningKeys;
  tokens: AccessTokenSettings;
  refreshTtlMs: number;
  logger: Logger;
}

type Grant = { id: string; user_id: string; client_id: string };

export function tokenEndpoint(deps: TokenEndpointDeps): Router {
  const { oauth, keys, tokens, logger } = deps;
  const router = express.Router();

  /** §5.1: the access token (of `scope`) with the refresh token just stored. */
  function answer(req: Request, res: Response, grant: Grant, scope: string, refresh: string) {
    const access = signAccessToken(keys, tokens, { userId: grant.user_id, clientId: grant.client_id, scope, grantId: grant.id });
    noStore(res);
    res.json({ access_token: access, token_type: 'Bearer', expires_in: tokens.ttlSeconds, refresh_token: refresh, scope });
    countTokenRequest(req, 'issued');
  }

  async function liveGrant(id: string, clientId: string) {
    const grant = await oauth.findGrant(id);
    if (!grant || grant.revoked_at !== null || grant.client_id !== clientId) throw invalidGrant('The authorization has been revoked.');
    return grant;
  }

  /** A second valid exchange of a code (RFC 6749 §4.1.2, §10.5): whoever holds it may be an attacker; revoke what it issued. */
  async function replayed(clientId: string, grantId: string): Promise<never> {
    if (await oauth.revokeGrant(SYSTEM, grantId, 'authorization code replayed')) oauthGrantsRevoked.inc({ reason: 'code-replayed' });
    logger.warn('oauth code replayed; grant revoked', { clientId, grantId });
    throw invalidGrant('The authorization code has already been used.');
  }

  /**
   * §4.1.3: the code, once, by the client it was issued to, with its redirect URI and PKCE verifier.
   * Everything the request must prove is checked before anything is written: a request that fails
   * a check (another client, a wrong or missing redirect_uri or code_verifier) neither spends the code
   * nor revokes anything, so whoever intercepts a code without its verifier can neither redeem it
   * nor spoil it for the client. Only a second *valid* exchange is a replay and revokes the grant
   * (OAuth 2.1 draft, "Reuse of Authorization Codes"; what oidc-provider does).
   */
  async function exchangeCode(req: Request, res: Response, body: Record<string, string>, clientId: string) {
    if (!body.code) throw invalidRequest('code is missing.');
    const shape = checkTokenShape(body.code);
    const code = shape.ok && shape.kind === 'code' ? await oauth.findCode(body.code) : undefined;
    if (!code || code.client_id !== clientId) throw invalidGrant('The authorization code is not valid.');
    if (body.redirect_uri !== code.redirect_uri) throw invalidGrant('redirect_uri does not match the authorization request.');
    if (code.code_challenge !== null) {
      if (!body.code_verifier) throw invalidGrant('code_verifier is missing (PKCE).');
      if (!CODE_VERIFIER.test(body.code_verifier) || !sameChallenge(s256(body.code_verifier), code.code_challenge)) throw invalidGrant('code_verifier does not match the code challenge.');
    } else if (body.code_verifier !== undefined) throw invalidGrant('code_verifier given but the authorization request had no code_challenge.');
    const grant = await liveGrant(code.grant_id, clientId);
    // A spent code is recognised as one until it is purged (a day after its expiry)
    if (code.used_at !== null) return replayed(clientId, grant.id);
    if (Date.parse(code.expires_at) <= Date.now()) throw invalidGrant('The authorization code has expired.');
    // Spent and its refresh token stored in one transaction; undefined: a concurrent exchange won
    const refresh = await oauth.redeemCode(code.code_hash, grant.id, code.scope, deps.refreshTtlMs);
    if (refresh === undefined) return replayed(clientId, grant.id);
    answer(req, res, grant, code.scope, refresh);
  }

  /**
   * §6: a refresh token, once (rotation), optionally narrowing the scope of this one access token.
   * Checked whole before it is spent, so a refusal (invalid_scope...) leaves it for the client's
   * retry; the new refresh token keeps the scope of the one it replaces (§6), whatever was asked.
   */
  async function refresh(req: Request, res: Response, body: Record<string, string>, clientId: string) {
    if (!body.refresh_token) throw invalidRequest('refresh_token is missing.');
    const shape = checkTokenShape(body.refresh_token);
    const token = shape.ok && shape.kind === 'refresh' ? await oauth.findRefreshToken(body.refresh_token) : undefined;
    if (!token) throw invalidGrant('The refresh token is not valid.');
    const grant = await oauth.findGrant(token.grant_id);
    if (!grant || grant.client_id !== clientId) throw invalidGrant('The refresh token is not valid.');
    if (grant.revoked_at !== null) throw invalidGrant('The authorization has been revoked.');
    // Spent, presented by its client: a rotated token used again (RFC 9700 §4.14.2)
    if (token.spent_at !== null) return reused(clientId, grant.id);
    if (Date.parse(token.expires_at) <= Date.now()) throw invalidGrant('The refresh token has expired.');
    let scope = token.scope;
    if (body.scope !== undefined) {
      const asked = normalizeScope(body.scope);
      if (asked === undefined || !scopeIncludes(token.scope, asked)) throw invalidScope(`A refresh can only keep or narrow the scope (${token.scope}).`);
      scope = asked;
    }
    const next = await oauth.rotateRefreshToken(token.token_hash, grant.id, token.scope, deps.refreshTtlMs);
    if (next === undefined) return reused(clientId, grant.id);
    answer(req, res, grant, scope, next);
  }

  /** Reuse of a rotated refresh token (RFC 9700 §4.14.2): revoke the whole grant. */
  async function reused(clientId: string, grantId: string): Promise<never> {
    if (await oauth.revokeGrant(SYSTEM, grantId, 'refresh token reused')) oauthGrantsRevoked.inc({ reason: 'refresh-reused' });
    logger.warn('oauth refresh token reused; grant revoked', { clientId, grantId });
    throw invalidGrant('The refresh token has already been used or revoked.');
  }

  router.all(TOKEN_PATHS, clientCors({ methods: ['POST'], publicRedirectUris: () => oauth.publicRedirectUris() }));
  router.post(TOKEN_PATHS, FORM, async (req, res) => {
    const body = params(req);
    const client = await deps.authenticateClient(req, body);
    if (body.grant_type === 'authorization_code') return exchangeCode(req, res, body, client.id);
    if (body.grant_type === 'refresh_token') return refresh(req, res, body, client.id);
    if (!body.grant_type) throw invalidRequest('grant_type is missing.');
    throw unsupportedGrantType();
  });
  router.all(TOKEN_PATHS, () => {
    throw methodNotAllowed(['POST', 'OPTIONS']);
  });

  return router;
}
