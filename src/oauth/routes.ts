// oauth/: the authorization server's HTTP surface (RFC 6749, 7636, 7009, 7662, 8414) on Express,
// composed from its endpoints (oauth/endpoints/): discovery (metadata, JWKS), the authorization
// endpoint with sign-in and consent (/oauth/authorize, alias /Auth/Authorize, handing over to
// /settings/authorize), the token endpoint (/oauth/token, alias /ApiToken/Retrieve), revocation and
// introspection; then the web surface's one error handler, answering in the RFC 6749 §5.2 form.
import express, { type Router } from 'express';
import type { Logger } from '../observability/logger.js';
import type { SignInBrake } from '../settings/attempts.js';
import type { RequireSessionOptions } from '../settings/session.js';
import type { SessionStore } from '../settings/session-store.js';
import type { Store } from '../store/index.js';
import { errorHandler } from '../web/error-handler.js';
import type { AccessTokenSettings } from './access-token.js';
import { authorizeEndpoints } from './endpoints/authorize.js';
import { clientAuthenticator } from './endpoints/client-auth.js';
import { sendOAuthError, TOKEN_PATHS } from './endpoints/http.js';
import { metadataEndpoints } from './endpoints/metadata.js';
import { revocationEndpoints } from './endpoints/revocation.js';
import { tokenEndpoint } from './endpoints/token.js';
import type { SigningKeys } from './keys.js';
import { OAuthStore } from '../store/oauth-store.js';

/** Where the OAuth answers are this router's to give (it is mounted at the root, beside other routers). */
const OAUTH_PATHS = ['/oauth', '/Auth/Authorize', '/settings/authorize', ...TOKEN_PATHS];

export interface OAuthRoutesDeps {
  store: Store;
  sessions: SessionStore;
  session: Omit<RequireSessionOptions, 'sessions'>;
  /** The settings sign-in's guessing brake, which the consent sign-in shares. */
  signInBrake: SignInBrake;
  keys: SigningKeys;
  tokens: AccessTokenSettings;
  refreshTtlMs: number;
  logger: Logger;
}

export function oauthRoutes(deps: OAuthRoutesDeps): Router {
  const { keys, tokens, logger } = deps;
  const oauth = new OAuthStore(deps.store.db);
  const authenticateClient = clientAuthenticator(oauth);
  const issuer = () => tokens.issuer();
  const router = express.Router();

  router.use(metadataEndpoints({ issuer, keys }));
  router.use(authorizeEndpoints({ oauth, sessions: deps.sessions, session: deps.session, brake: deps.signInBrake, issuer, logger }));
  router.use(tokenEndpoint({ oauth, authenticateClient, keys, tokens, refreshTtlMs: deps.refreshTtlMs, logger }));
  router.use(revocationEndpoints({ oauth, users: deps.store.gateway, authenticateClient, keys, tokens }));

  router.use(OAUTH_PATHS, errorHandler({ logger, what: 'oauth endpoint', send: sendOAuthError }));
  return router;
}
