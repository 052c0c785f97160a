// settings/routes: the signed-in user's API tokens — list, create (disabled, the secret in this
// answer only, optionally restricted), rename / enable / expiry, restrict (issue 20), roll, delete.
// A token of another user is answered 404, exactly like one that does not exist. Every write goes through the store's audited, change-feeding
// write side, so the gateway sees it on its next change-feed poll.
import express, { type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import type { AdminStore } from '../../store/admin-store.js';
import type { ApiTokenView } from '../../store/index.js';
import type { RollOverlap, TokenLifecycle } from '../../store/token-lifecycle.js';
import { parseBody } from '../body.js';
import { notFound } from '../errors.js';
import { actorOf, sessionOf } from '../session.js';
import { tokenJson } from '../views.js';
import { CreateToken, Restrictions, RollToken, UpdateToken, type CreatedToken, type RolledToken, type Token } from '../wire.js';

// wire.ts names the roll overlaps itself (the page's compiler cannot read the store): the same set as
// the store's ROLL_OVERLAPS, or this does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const overlapsMatch: Same<RollToken['oldExpires'], RollOverlap> = true;
void overlapsMatch;

export interface TokenRoutesDeps {
  tokens: Pick<AdminStore, 'listApiTokens' | 'createApiToken' | 'restrictApiToken' | 'renameApiToken' | 'setApiTokenExpiry' | 'setApiTokenEnabled' | 'deleteApiToken'>;
  lifecycle: Pick<TokenLifecycle, 'rollApiToken' | 'revokedOf' | 'usageIps'>;
  logger: Logger;
}

export function tokenRoutes(deps: TokenRoutesDeps): Router {
  const { tokens, lifecycle, logger } = deps;
  const router = express.Router();

  async function ownToken(res: Response, id: string): Promise<ApiTokenView> {
    const token = (await tokens.listApiTokens(sessionOf(res).loginName)).find((t) => t.id === id);
    if (!token) throw notFound('API token');
    return token;
  }

  /** The views with what the lifecycle tables add: revocation and the last distinct addresses. */
  async function withFacts(views: ApiTokenView[]): Promise<Token[]> {
    const ids = views.map((v) => v.id);
    const [revoked, ips] = await Promise.all([lifecycle.revokedOf(ids), lifecycle.usageIps(ids)]);
    return views.map((v) => tokenJson(v, { revokedAt: revoked.get(v.id), lastUsedIps: ips.get(v.id) ?? [] }));
  }

  router.get('/tokens', async (_req, res) => {
    res.json(await withFacts(await tokens.listApiTokens(sessionOf(res).loginName)));
  });

  router.post('/tokens', async (req, res) => {
    const body = parseBody(CreateToken, req.body);
    const s = sessionOf(res);
    // New tokens start disabled (DESIGN.md §2): the user turns one on when the integration is ready.
    const { token, secret } = await tokens.createApiToken(actorOf(req, res), s.loginName, body.name, {
      enabled: false,
      expiresAt: body.expiresAt ?? null,
      restrictions: body.restrictions ?? null,
    });
    logger.info('settings token created', { userId: s.userId, tokenId: token.id });
    const created: CreatedToken = { token: tokenJson(token), secret };
    res.status(201).json(created);
  });

  router.patch('/tokens/:id', async (req, res) => {
    const body = parseBody(UpdateToken, req.body);
    const token = await ownToken(res, req.params.id as string);
    const who = actorOf(req, res);
    if (body.name !== undefined && body.name !== token.name) await tokens.renameApiToken(who, token.id, body.name);
    if (body.expiresAt !== undefined) await tokens.setApiTokenExpiry(who, token.id, body.expiresAt);
    if (body.enabled !== undefined && body.enabled !== token.enabled) await tokens.setApiTokenEnabled(who, token.id, body.enabled);
    res.json((await withFacts([await ownToken(res, token.id)]))[0]);
  });

  // Restrict: replaces what the token is restricted to; {} lifts every restriction. The gateway
  // refuses by the new ones on its next change-feed poll.
  router.put('/tokens/:id/restrictions', async (req, res) => {
    const body = parseBody(Restrictions, req.body);
    const token = await ownToken(res, req.params.id as string);
    const view = await tokens.restrictApiToken(actorOf(req, res), token.id, body);
    logger.info('settings token restricted', { userId: sessionOf(res).userId, tokenId: token.id });
    res.json((await withFacts([view]))[0]);
  });

  // Roll: a new secret for the same record; the old one keeps working until the chosen time.
  router.post('/tokens/:id/roll', async (req, res) => {
    const body = parseBody(RollToken, req.body);
    const token = await ownToken(res, req.params.id as string);
    const rolled = await lifecycle.rollApiToken(actorOf(req, res), token.id, body.oldExpires);
    logger.info('settings token rolled', { userId: sessionOf(res).userId, tokenId: token.id, oldSecretExpiresAt: rolled.oldSecretExpiresAt });
    const [view] = await withFacts([await ownToken(res, token.id)]);
    const answer: RolledToken = { token: view!, secret: rolled.secret, oldSecretExpiresAt: rolled.oldSecretExpiresAt };
    res.json(answer);
  });

  router.delete('/tokens/:id', async (req, res) => {
    const token = await ownToken(res, req.params.id as string);
    await tokens.deleteApiToken(actorOf(req, res), token.id);
    logger.info('settings token deleted', { userId: sessionOf(res).userId, tokenId: token.id });
    res.status(204).end();
  });

  return router;
}
