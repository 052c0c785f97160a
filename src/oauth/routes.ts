// oauth/: the authorization server's HTTP surface (RFC 6749, 7636, 7009, 7662, 8414) on Express:
// /oauth/authorize (alias /Auth/Authorize) hands over to /settings/authorize, where the settings
// session cookie (Path=/settings) is visible, for sign-in and consent; /oauth/token (alias
// /ApiToken/Retrieve), /oauth/revoke, /oauth/introspect, and the two .well-known documents.
import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { checkTokenShape } from '../tokens/token-format.js';
import type { Logger } from '../observability/logger.js';
import { oauthGrantsRevoked, oauthTokenRequests } from '../observability/metrics.js';
import { signInAttempts } from '../settings/attempts.js';
import { verifyPassword } from '../settings/password.js';
import { requireSession, sessionOf, setSessionCookie, type RequireSessionOptions } from '../settings/session.js';
import type { Session, SessionStore } from '../settings/session-store.js';
import type { Store } from '../store/index.js';
import { looksLikeJwt, signAccessToken, verifyAccessToken, type AccessTokenSettings } from './access-token.js';
import { checkAuthorizeRequest, redirectWith, SCOPES, type AuthorizeRequest } from './authorize-request.js';
import { consentPage, errorPage, pageHeaders, signInPage } from './consent-page.js';
import { invalidClient, invalidGrant, invalidRequest, invalidScope, OAuthError, serverError, temporarilyUnavailable, unsupportedGrantType } from './errors.js';
import { errorHandler, type SendError } from '../web/error-handler.js';
import type { SigningKeys } from './keys.js';
import { OAuthStore, s256, secretMatches } from './oauth-store.js';
import type { OAuthClientsTable } from '../store/tables.js';

export interface OAuthRoutesDeps {
  store: Store;
  sessions: SessionStore;
  session: Omit<RequireSessionOptions, 'sessions'>;
  keys: SigningKeys;
  tokens: AccessTokenSettings;
  refreshTtlMs: number;
  logger: Logger;
}

const FORM = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });
const SYSTEM = { actor: 'system', source: 'oauth' };

function noStore(res: Response) {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

/** Body parameters given once, as strings (RFC 6749 §3.2: parameters must not repeat). */
function params(req: Request): Record<string, string> {
  if (!req.is('application/x-www-form-urlencoded')) throw invalidRequest('Send the request body as application/x-www-form-urlencoded.');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalidRequest(`The parameter ${k} is repeated.`);
    out[k] = v;
  }
  return out;
}

/** A form posted from another site (login CSRF, consent forgery) is refused; browsers send Origin on POST. */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function oauthRoutes(deps: OAuthRoutesDeps): Router {
  const { keys, tokens, logger } = deps;
  const oauth = new OAuthStore(deps.store.db);
  const router = express.Router();
  const session = requireSession({ sessions: deps.sessions, ...deps.session });
  const issuer = () => tokens.issuer();

  async function sessionFor(req: Request, res: Response): Promise<(Session & { cookie: string }) | undefined> {
    let found = false;
    try {
      await session(req, res, () => {
        found = true;
      });
    } catch {
      return undefined;
    }
    return found ? sessionOf(res) : undefined;
  }

  // --- discovery ------------------------------------------------------------------------------

  router.get('/.well-known/oauth-authorization-server', (_req, res) => {
    const base = issuer();
    res.set('Cache-Control', 'public, max-age=300').json({
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: Object.keys(SCOPES),
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
    });
  });
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(keys.jwks());
  });

  // --- authorize: checked here, then handed to /settings/authorize (the session cookie's path) ----

  const authorize = async (req: Request, res: Response) => {
    const check = await checkAuthorizeRequest(req.query as Record<string, unknown>, oauth, issuer());
    if (!check.ok) return 'show' in check ? res.status(400).set(pageHeaders()).type('html').send(errorPage(check.show)) : res.redirect(303, check.redirect);
    const q = req.originalUrl.indexOf('?');
    res.set('Cache-Control', 'no-store').redirect(303, `/settings/authorize${q >= 0 ? req.originalUrl.slice(q) : ''}`);
  };
  router.get(['/oauth/authorize', '/Auth/Authorize'], authorize);

  const showStep = async (req: Request, res: Response, r: AuthorizeRequest, query: string, error?: string) => {
    const s = await sessionFor(req, res);
    res.set(pageHeaders(r.redirectUri)).type('html');
    if (!s) return res.status(error ? 401 : 200).send(signInPage(r, query, error));
    res.send(consentPage(r, s.loginName, s.csrfToken));
  };

  router.get('/settings/authorize', async (req, res) => {
    const check = await checkAuthorizeRequest(req.query as Record<string, unknown>, oauth, issuer());
    if (!check.ok) return 'show' in check ? res.status(400).set(pageHeaders()).type('html').send(errorPage(check.show)) : res.redirect(303, check.redirect);
    const q = req.originalUrl.indexOf('?');
    await showStep(req, res, check.request, q >= 0 ? req.originalUrl.slice(q + 1) : '');
  });

  router.post('/settings/authorize/sign-in', FORM, signInAttempts(), async (req, res) => {
    if (!sameOrigin(req)) return res.status(403).set(pageHeaders()).type('html').send(errorPage('This sign-in form was sent from another site.'));
    const body = params(req);
    const query = body.query ?? '';
    const check = await checkAuthorizeRequest(Object.fromEntries(new URLSearchParams(query)), oauth, issuer());
    if (!check.ok) return 'show' in check ? res.status(400).set(pageHeaders()).type('html').send(errorPage(check.show)) : res.redirect(303, check.redirect);
    const user = body.login ? await deps.sessions.findUserByLogin(body.login) : undefined;
    const ok = await verifyPassword(body.password ?? '', user?.passwordHash);
    if (!ok || !user?.enabled) {
      res.status(401).set(pageHeaders()).type('html').send(signInPage(check.request, query, 'Wrong login name or password.'));
      return;
    }
    const created = await deps.sessions.create(user.id, 'oauth');
    setSessionCookie(res, created.id, created.expiresAt, deps.session);
    logger.info('settings sign-in', { userId: user.id, source: 'oauth' });
    res.redirect(303, `/settings/authorize?${query}`);
  });

  router.post('/settings/authorize', FORM, async (req, res) => {
    if (!sameOrigin(req)) return res.status(403).set(pageHeaders()).type('html').send(errorPage('This consent form was sent from another site.'));
    const body = params(req);
    const { decision, csrf_token: csrf, ...rest } = body;
    const check = await checkAuthorizeRequest(rest, oauth, issuer());
    if (!check.ok) return 'show' in check ? res.status(400).set(pageHeaders()).type('html').send(errorPage(check.show)) : res.redirect(303, check.redirect);
    const r = check.request;
    const s = await sessionFor(req, res);
    if (!s) return showStep(req, res, r, new URLSearchParams(rest).toString(), 'Your session has expired; sign in again.');
    const expected = Buffer.from(s.csrfToken);
    const given = Buffer.from(csrf ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(403).set(pageHeaders()).type('html').send(errorPage('This form has expired. Go back to the application and start again.'));
      return;
    }
    if (decision !== 'allow') return res.redirect(303, redirectWith(r.redirectUri, { error: 'access_denied', error_description: 'The user denied access.', state: r.state, iss: issuer() }));
    const { code, grantId } = await oauth.authorize({ actor: `user:${s.userId}`, source: req.ip ?? null }, { userId: s.userId, organizationId: s.organizationId, clientId: r.client.id, scope: r.scope, redirectUri: r.redirectUri, codeChallenge: r.codeChallenge });
    logger.info('oauth consent', { userId: s.userId, clientId: r.client.id, grantId, scope: r.scope });
    res.redirect(303, redirectWith(r.redirectUri, { code, state: r.state, iss: issuer() }));
  });

  // --- client authentication (RFC 6749 §2.3.1) ----------------------------------------------------

  async function authenticateClient(req: Request, body: Record<string, string>, opts: { confidentialOnly?: boolean } = {}): Promise<OAuthClientsTable> {
    let id = body.client_id;
    let secret = body.client_secret;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Basic[ ]+([A-Za-z0-9+/=]+)$/i.exec(header);
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0 || secret !== undefined) throw invalidClient('Use one client authentication method: HTTP Basic or client_secret in the body.');
      try {
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw invalidClient();
      }
      if (body.client_id !== undefined && body.client_id !== id) throw invalidClient();
    }
    if (!id) throw invalidClient('client_id is missing.');
    const client = await oauth.findClient(id);
    if (!client || client.enabled !== 1) throw invalidClient();
    if (client.public === 1) {
      if (opts.confidentialOnly) throw invalidClient('Only confidential clients may introspect tokens.');
      if (secret !== undefined) throw invalidClient();
      return client;
    }
    if (secret === undefined || !secretMatches(secret, client.secret_hash)) throw invalidClient();
    return client;
  }

  // --- token ----------------------------------------------------------------------------------------

  async function issue(res: Response, grant: { id: string; user_id: string; client_id: string }, scope: string) {
    const refresh = await oauth.issueRefreshToken(grant.id, scope, deps.refreshTtlMs);
    const access = signAccessToken(keys, tokens, { userId: grant.user_id, clientId: grant.client_id, scope, grantId: grant.id });
    noStore(res);
    res.json({ access_token: access, token_type: 'Bearer', expires_in: tokens.ttlSeconds, refresh_token: refresh, scope });
    oauthTokenRequests.inc({ grant_type: res.req.body.grant_type, outcome: 'issued' });
  }

  async function liveGrant(id: string, clientId: string) {
    const grant = await oauth.findGrant(id);
    if (!grant || grant.revoked_at !== null || grant.client_id !== clientId) throw invalidGrant('The authorization has been revoked.');
    return grant;
  }

  router.post(['/oauth/token', '/ApiToken/Retrieve'], FORM, async (req, res) => {
    const body = params(req);
    const client = await authenticateClient(req, body);
    if (body.grant_type === 'authorization_code') {
      if (!body.code) throw invalidRequest('code is missing.');
      const shape = checkTokenShape(body.code);
      const code = shape.ok && shape.kind === 'code' ? await oauth.findCode(body.code) : undefined;
      if (!code || code.client_id !== client.id) throw invalidGrant('The authorization code is not valid.');
      if (!(await oauth.spendCode(code.code_hash))) {
        // Replayed (RFC 6749 §4.1.2): whoever holds it may be an attacker; revoke what it issued.
        await oauth.revokeGrant(SYSTEM, code.grant_id, 'authorization code replayed');
        oauthGrantsRevoked.inc({ reason: 'code-replayed' });
        logger.warn('oauth code replayed; grant revoked', { clientId: client.id, grantId: code.grant_id });
        throw invalidGrant('The authorization code has already been used.');
      }
      if (Date.parse(code.expires_at) <= Date.now()) throw invalidGrant('The authorization code has expired.');
      if (body.redirect_uri !== code.redirect_uri) throw invalidGrant('redirect_uri does not match the authorization request.');
      if (code.code_challenge !== null) {
        if (!body.code_verifier) throw invalidGrant('code_verifier is missing (PKCE).');
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(body.code_verifier) || s256(body.code_verifier) !== code.code_challenge) throw invalidGrant('code_verifier does not match the code challenge.');
      } else if (body.code_verifier !== undefined) throw invalidGrant('code_verifier given but the authorization request had no code_challenge.');
      const grant = await liveGrant(code.grant_id, client.id);
      return issue(res, grant, code.scope);
    }
    if (body.grant_type === 'refresh_token') {
      if (!body.refresh_token) throw invalidRequest('refresh_token is missing.');
      const shape = checkTokenShape(body.refresh_token);
      const token = shape.ok && shape.kind === 'refresh' ? await oauth.findRefreshToken(body.refresh_token) : undefined;
      if (!token) throw invalidGrant('The refresh token is not valid.');
      const grant = await oauth.findGrant(token.grant_id);
      if (!grant || grant.client_id !== client.id) throw invalidGrant('The refresh token is not valid.');
      if (!(await oauth.spendRefreshToken(token.token_hash))) {
        // Reuse of a rotated token (RFC 9700 §4.14.2): revoke the whole grant.
        if (await oauth.revokeGrant(SYSTEM, grant.id, 'refresh token reused')) oauthGrantsRevoked.inc({ reason: 'refresh-reused' });
        logger.warn('oauth refresh token reused; grant revoked', { clientId: client.id, grantId: grant.id });
        throw invalidGrant('The refresh token has already been used or revoked.');
      }
      if (Date.parse(token.expires_at) <= Date.now()) throw invalidGrant('The refresh token has expired.');
      await liveGrant(grant.id, client.id);
      let scope = token.scope;
      if (body.scope !== undefined) {
        const asked = body.scope.split(' ').filter(Boolean);
        const had = token.scope.split(' ');
        if (asked.length === 0 || asked.some((s) => !had.includes(s))) throw invalidScope('A refresh can only narrow the scope.');
        scope = [...new Set(asked)].sort().join(' ');
      }
      return issue(res, grant, scope);
    }
    if (!body.grant_type) throw invalidRequest('grant_type is missing.');
    throw unsupportedGrantType();
  });

  // --- revoke (RFC 7009) and introspect (RFC 7662) ----------------------------------------------

  /** The grant behind a token issued to this client, whether access token or refresh token. */
  async function grantOfToken(token: string, clientId: string): Promise<{ grantId: string; exp?: number; scope: string; sub: string; jti?: string; iat?: number; kind: string } | undefined> {
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

  router.post('/oauth/revoke', FORM, async (req, res) => {
    const body = params(req);
    const client = await authenticateClient(req, body);
    if (!body.token) throw invalidRequest('token is missing.');
    const found = await grantOfToken(body.token, client.id);
    // Either token revokes the grant: its refresh tokens and, through the cache, its access tokens.
    if (found) await oauth.revokeGrant({ actor: `oauth_client:${client.id}`, source: req.ip ?? null }, found.grantId, `${found.kind} revoked by the client`);
    noStore(res);
    res.status(200).end();
  });

  router.post('/oauth/introspect', FORM, async (req, res) => {
    const body = params(req);
    const client = await authenticateClient(req, body, { confidentialOnly: true });
    if (!body.token) throw invalidRequest('token is missing.');
    noStore(res);
    const found = await grantOfToken(body.token, client.id);
    const grant = found && (await oauth.findGrant(found.grantId));
    const user = grant && (await deps.store.gateway.findUser(grant.user_id));
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
      iss: issuer(),
      jti: found.jti,
    });
  });

  router.use(['/oauth', '/ApiToken/Retrieve', '/Auth/Authorize', '/settings/authorize'], errorHandler({ logger, what: 'oauth endpoint', send: sendOAuthError }));
  return router;
}

/**
 * An outcome as the RFC 6749 §5.2 body. The support id (the access line's request id) goes in the
 * X-Request-Id header, as on every other error of the gateway: the body keeps exactly the members the
 * RFC defines, which client libraries parse; a server_error also names it in its description.
 */
const sendOAuthError: SendError = (req, res, out, requestId) => {
  const e =
    out instanceof OAuthError
      ? out
      : out.status >= 500
        ? serverError(requestId)
        : out.status === 429
          ? temporarilyUnavailable(out.code === 'TooManyAttempts' ? 'Too many failed sign-ins; wait a few minutes.' : out.message)
          : invalidRequest(out.message);
  noStore(res);
  res.set({ ...out.headers(), 'X-Request-Id': requestId });
  const path = req.originalUrl.split('?')[0]!.toLowerCase();
  if (path === '/oauth/token' || path === '/apitoken/retrieve') {
    const grantType = (req.body as { grant_type?: unknown } | undefined)?.grant_type;
    oauthTokenRequests.inc({ grant_type: grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other', outcome: e.code });
  }
  if (e.status === 401 && req.headers.authorization) res.set('WWW-Authenticate', 'Basic realm="gatehouse"');
  res.status(e.status).json({ error: e.code, error_description: e.message });
};
