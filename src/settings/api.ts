// settings/: the JSON API under /settings/api/, composed from its route groups (settings/routes/):
// sign-in (no session yet), then — behind the session and CSRF checks — the session, the user's API
// tokens, their audit trail, the organization-token section and Apps and Connections; then 404 and
// the web surface's one error handler. Bodies are the zod schemas of settings/wire.ts, which the
// OpenAPI document served here is generated from.
import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from '../observability/logger.js';
import type { GatehouseError } from '../outcomes/errors.js';
import { OAuthStore } from '../store/oauth-store.js';
import { judgeOrgTokenManagement } from '../policy/org-token.js';
import { StoreError, type Store } from '../store/index.js';
import { OrgTokenAdmin } from '../store/org-token-admin.js';
import { errorHandler } from '../web/error-handler.js';
import { accountOf } from './account.js';
import type { SignInBrake } from './attempts.js';
import { badRequest, conflict, notFound, notJson } from './errors.js';
import { openApiDocument } from './openapi.js';
import type { PlatformSessionVerifier } from './platform-session.js';
import { appRoutes } from './routes/apps.js';
import { auditRoutes } from './routes/audit.js';
import { orgTokenRoutes } from './routes/org-tokens.js';
import { sessionRoutes } from './routes/session.js';
import { signInRoutes } from './routes/sign-in.js';
import { tokenRoutes } from './routes/tokens.js';
import { requireCsrf, requireSession } from './session.js';
import type { SessionStore } from './session-store.js';

const BODY_LIMIT = '16kb';
const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export interface SettingsApiOptions {
  store: Store;
  sessions: SessionStore;
  logger: Logger;
  /** Secure cookies (everywhere but development). */
  secureCookies: boolean;
  /** The guessing brake, shared with the OAuth consent sign-in (settings/attempts.ts). */
  brake: SignInBrake;
  platform?: { cookie: string; verify: PlatformSessionVerifier };
}

/** Nothing here may be cached: responses carry CSRF tokens and, once, a token secret. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** Bodies are JSON only: a cross-site form cannot send application/json without a CORS preflight. */
const jsonOnly: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  if (WRITES.has(req.method) && length !== '0' && length !== undefined && !req.is('application/json')) throw notJson();
  next();
};

/** The store's refusals of a settings write, as the settings API's outcomes. */
function storeOutcome(err: unknown): GatehouseError | undefined {
  if (!(err instanceof StoreError)) return undefined;
  return err.code === 'NotFound' ? notFound('API token') : err.code === 'Conflict' ? conflict(`${err.message}: token names are unique per user.`) : badRequest(err.message);
}

export function settingsApi(opts: SettingsApiOptions): Router {
  const { store, sessions, logger } = opts;
  const cookies = { secure: opts.secureCookies };
  const account = accountOf(store.gateway);
  const api = express.Router();

  api.use(noStore, jsonOnly, express.json({ limit: BODY_LIMIT, strict: true }));
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  // No session yet
  api.use(signInRoutes({ sessions, passwords: store.admin, account, cookies, brake: opts.brake, logger }));

  // Everything below needs a session, and a CSRF token to change anything
  api.use(requireSession({ sessions, ...cookies, platform: opts.platform }), requireCsrf);
  api.use(sessionRoutes({ sessions, account, cookies }));
  api.use(tokenRoutes({ tokens: store.admin, lifecycle: store.lifecycle, logger }));
  api.use(auditRoutes({ audit: store.lifecycle }));
  api.use(orgTokenRoutes({ orgTokens: new OrgTokenAdmin(store.db, judgeOrgTokenManagement), account, logger }));
  api.use(appRoutes({ grants: new OAuthStore(store.db), logger }));

  api.use(() => {
    throw notFound('settings API resource');
  });
  api.use(errorHandler({ logger, what: 'settings API', outcomeOf: storeOutcome }));
  return api;
}
