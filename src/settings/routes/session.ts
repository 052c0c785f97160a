// settings/routes: the signed-in session — GET /me (who, the API permission, the CSRF token the
// page sends back) and DELETE /session (sign out). Mounted behind requireSession.
import express, { type Router } from 'express';
import type { Account } from '../account.js';
import { clearSessionCookie, sessionOf, type CookieOptions } from '../session.js';
import type { SessionStore } from '../session-store.js';

export interface SessionRoutesDeps {
  sessions: Pick<SessionStore, 'destroy'>;
  account: Account;
  cookies: CookieOptions;
}

export function sessionRoutes(deps: SessionRoutesDeps): Router {
  const router = express.Router();

  router.get('/me', async (_req, res) => {
    res.json(await deps.account.me(sessionOf(res)));
  });

  router.delete('/session', async (_req, res) => {
    await deps.sessions.destroy(sessionOf(res).cookie);
    clearSessionCookie(res, deps.cookies);
    res.status(204).end();
  });

  return router;
}
