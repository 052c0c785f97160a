// oauth/endpoints: token revocation (RFC 7009) and introspection (RFC 7662, confidential clients
// only), both only for tokens issued to the calling client. Either kind of token — an access token
// (JWT) or a refresh token — stands for its grant: revoking one revokes the grant, its refresh
// tokens and, through the cache (`grant:<id>`), its live access tokens. Revocation answers
// browser-based public clients from their redirect URIs' origins (CORS, cors.ts); introspection,
// for confidential clients, does not.
import express, { type Router } from 'express';
import type { GatewayStore } from '../../store/index.js';
import { checkTokenShape } from '../../tokens/token-format.js';
import { looksLikeJwt, verifyAccessToken, type AccessTokenSettings } from '../access-token.js';
import { invalidRequest, methodNotAllowed } from '../errors.js';
import type { SigningKeys } from '../keys.js';
import type { OAuthStore } from '../../store/oauth-store.js';
import type { AuthenticateClient } from './client-auth.js';
import { clientCors } from './cors.js';
import { FORM, noStore, params } from './http.js';

export interface RevocationDeps {
  oauth: Pick<OAuthStore, 'publicRedirectUris' | 'findRefreshToken' | 'findGrant' | 'revokeGrant'>;
  users: Pick<GatewayStore, 'findUser'>;
  authenticateClient: AuthenticateClient;
  keys: SigningKeys;
  tokens: AccessTokenSettings;
}

/** What a token stands for, when it is live and was issued to this client. */
interface TokenFacts {
  grantId: string;
  kind: 'access_token' | 'refresh_token';
  scope: string;
  sub: string;
  exp?: number;
  iat?: number;
  jti?: string;
}

export function revocationEndpoints(deps: RevocationDeps): Router {
  const { oauth, keys, tokens } = deps;
  const router = express.Router();

  async function grantOfToken(token: string, clientId: string): Promise<TokenFacts | undefined> {
    if (looksLikeJwt(token)) {
      const v = verifyAccessToken(keys, tokens, token);
      if (!v.ok || v.claims.client_id !== clientId) return undefined;
      const c = v.claims;
      return { grantId: c.grant_id, exp: c.exp, scope: c.scope, sub: c.sub, jti: c.jti, iat: c.iat, kind: 'access_token' };
    }
    const shape = checkTokenShape(token);
    if (!shape.ok || shape.kind !== 'refresh') return undefined;
    const row = await oauth.findRefreshToken(token);
    if (!row || row.spent_at !== null || Date.parse(row.expires_at) <= Date.now()) return undefined;
    const grant = await oauth.findGrant(row.grant_id);
    if (!grant || grant.client_id !== clientId) return undefined;
    return { grantId: grant.id, exp: Math.floor(Date.parse(row.expires_at) / 1000), scope: row.scope, sub: grant.user_id, kind: 'refresh_token' };
  }

  // RFC 7009 §2.2: 200 whether or not the token was known, so it tells nothing.
  router.all('/oauth/revoke', clientCors({ methods: ['POST'], publicRedirectUris: () => oauth.publicRedirectUris() }));
  router.post('/oauth/revoke', FORM, async (req, res) => {
    const body = params(req);
    const client = await deps.authenticateClient(req, body);
    if (!body.token) throw invalidRequest('token is missing.');
    const found = await grantOfToken(body.token, client.id);
    if (found) await oauth.revokeGrant({ actor: `oauth_client:${client.id}`, source: req.ip ?? null }, found.grantId, `${found.kind} revoked by the client`);
    noStore(res);
    res.status(200).end();
  });

  // RFC 7662 §2.2: an unknown, foreign, expired or revoked token is just {"active": false}.
  router.post('/oauth/introspect', FORM, async (req, res) => {
    const body = params(req);
    const client = await deps.authenticateClient(req, body, { confidentialOnly: true });
    if (!body.token) throw invalidRequest('token is missing.');
    noStore(res);
    const found = await grantOfToken(body.token, client.id);
    const grant = found && (await oauth.findGrant(found.grantId));
    const user = grant && (await deps.users.findUser(grant.user_id));
    if (!found || !grant || grant.revoked_at !== null || !user?.enabled) return res.json({ active: false });
    res.json({
      active: true,
      scope: found.scope,
      client_id: client.id,
      username: user.loginName,
      token_type: found.kind === 'access_token' ? 'Bearer' : 'refresh_token',
      exp: found.exp,
      iat: found.iat,
      sub: found.sub,
      aud: tokens.audience,
      iss: tokens.issuer(),
      jti: found.jti,
    });
  });

  // Both are POST only; introspection (confidential clients, servers) answers no CORS.
  router.options('/oauth/introspect', (_req, res) => {
    res.set('Allow', 'POST, OPTIONS').status(204).end();
  });
  router.all(['/oauth/revoke', '/oauth/introspect'], () => {
    throw methodNotAllowed(['POST', 'OPTIONS']);
  });

  return router;
}
