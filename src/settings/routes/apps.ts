// settings/routes: Apps and Connections — the user's live OAuth grants, and "Revoke access".
// Revoking a grant revokes its refresh tokens and, through the change feed (`grant:<id>`), its
// access tokens on the next request. Another user's grant is answered 404, like a missing one.
import express, { type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import type { OAuthStore } from '../../store/oauth-store.js';
import { notFound } from '../errors.js';
import { actorOf, sessionOf } from '../session.js';
import { appJson } from '../views.js';
import type { App } from '../wire.js';

export interface AppRoutesDeps {
  grants: Pick<OAuthStore, 'appsOf' | 'revokeGrant'>;
  logger: Logger;
}

export function appRoutes(deps: AppRoutesDeps): Router {
  const { grants, logger } = deps;
  const router = express.Router();

  router.get('/apps', async (_req, res) => {
    const apps: App[] = (await grants.appsOf(sessionOf(res).userId)).map(appJson);
    res.json(apps);
  });

  router.delete('/apps/:grantId', async (req, res) => {
    const s = sessionOf(res);
    const grantId = req.params.grantId as string;
    if (!(await grants.appsOf(s.userId)).some((a) => a.grantId === grantId)) throw notFound('app authorization');
    await grants.revokeGrant(actorOf(req, res), grantId, 'revoked by the user in Apps and Connections');
    logger.info('settings app access revoked', { userId: s.userId, grantId });
    res.status(204).end();
  });

  return router;
}
