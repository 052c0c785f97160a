// settings/routes: GET /audit — the signed-in user's own credential events (their tokens, their
// account, what they did), newest first.
import express, { type Router } from 'express';
import type { TokenLifecycle } from '../../store/token-lifecycle.js';
import { sessionOf } from '../session.js';

/** Newest credential events shown. */
export const AUDIT_PAGE = 200;

export interface AuditRoutesDeps {
  audit: Pick<TokenLifecycle, 'auditEvents'>;
}

export function auditRoutes(deps: AuditRoutesDeps): Router {
  const router = express.Router();
  router.get('/audit', async (_req, res) => {
    const events = await deps.audit.auditEvents({ userId: sessionOf(res).userId });
    res.json(events.slice(-AUDIT_PAGE).reverse());
  });
  return router;
}
