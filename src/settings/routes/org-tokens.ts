// settings/routes: organization API tokens (deprecated) — the section's state, and its tokens for
// users of the organization who hold the API permission while the OrganizationApiToken flag is on.
// The section is checked here first (a hidden section is 404, a disabled one 403 with its reason);
// the store enforces the same rule again on every write.
import express, { type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import { MANAGEMENT_REFUSAL_TEXT, OrgTokenManagementRefused, type OrgTokenAdmin } from '../../store/org-token-admin.js';
import { StoreError } from '../../store/index.js';
import type { Account } from '../account.js';
import { parseBody } from '../body.js';
import { notFound, sectionDisabled } from '../errors.js';
import { actorOf, sessionOf } from '../session.js';
import { orgTokenJson } from '../views.js';
import { CreateOrgToken, UpdateOrgToken, type CreatedOrgToken, type OrgTokens } from '../wire.js';

export interface OrgTokenRoutesDeps {
  orgTokens: Pick<OrgTokenAdmin, 'list' | 'create' | 'setEnabled' | 'delete'>;
  account: Account;
  logger: Logger;
}

/** The store's refusals of an organization-token write, as the section's answers. */
async function orgTokenWrite<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof OrgTokenManagementRefused) throw sectionDisabled(`You may not manage organization API tokens: ${MANAGEMENT_REFUSAL_TEXT[e.reason]}.`);
    if (e instanceof StoreError && e.code === 'NotFound') throw notFound('organization API token');
    throw e;
  }
}

export function orgTokenRoutes(deps: OrgTokenRoutesDeps): Router {
  const { orgTokens, account, logger } = deps;
  const router = express.Router();

  /** The section must be shown and enabled before anything in it is touched. */
  async function requireSection(res: Response) {
    const section = await account.orgTokenSection(sessionOf(res));
    if (!section.visible) throw notFound('section: your organization does not use organization API tokens');
    if (!section.enabled) throw sectionDisabled(section.reason!);
  }

  router.get('/org-tokens', async (_req, res) => {
    const section = await account.orgTokenSection(sessionOf(res));
    const tokens = section.enabled ? await orgTokens.list(sessionOf(res).loginName) : [];
    const body: OrgTokens = { section, tokens: tokens.map(orgTokenJson) };
    res.json(body);
  });

  router.post('/org-tokens', async (req, res) => {
    await requireSection(res);
    const body = parseBody(CreateOrgToken, req.body);
    const s = sessionOf(res);
    // Like personal tokens, organization tokens start disabled.
    const { token, secret } = await orgTokenWrite(() => orgTokens.create(actorOf(req, res), s.loginName, body.name, { enabled: false }));
    logger.info('settings organization token created', { userId: s.userId, orgTokenId: token.id });
    const created: CreatedOrgToken = { token: orgTokenJson(token), secret };
    res.status(201).json(created);
  });

  router.patch('/org-tokens/:id', async (req, res) => {
    await requireSection(res);
    const body = parseBody(UpdateOrgToken, req.body);
    const token = await orgTokenWrite(() => orgTokens.setEnabled(actorOf(req, res), sessionOf(res).loginName, req.params.id as string, body.enabled));
    res.json(orgTokenJson(token));
  });

  router.delete('/org-tokens/:id', async (req, res) => {
    await requireSection(res);
    await orgTokenWrite(() => orgTokens.delete(actorOf(req, res), sessionOf(res).loginName, req.params.id as string));
    res.status(204).end();
  });

  return router;
}
