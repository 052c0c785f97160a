// settings/: the JSON API under /settings/api/ — sign-in, the user's API tokens, the organization
// token section and apps. Every token write goes through AdminStore, the audited, change-feeding
// write path the CLI uses, so the gateway sees a change on its next change-feed poll.
// A token of another user is answered 404, exactly like one that does not exist.
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { GatehouseError, InternalError } from '../outcomes/errors.js';
import { errorHandler } from '../web/error-handler.js';
import { OAuthStore, type AppView } from '../oauth/oauth-store.js';
import type { RoleRecord } from '../store/records.js';
import { StoreError, type Actor, type ApiTokenView, type Store } from '../store/index.js';
import { linkAttempts, signInAttempts } from './attempts.js';
import { badRequest, conflict, linkInvalid, notFound, notJson, sectionDisabled, signInFailed } from './errors.js';
import { MANAGEMENT_REFUSAL_TEXT, OrgTokenAdmin, OrgTokenManagementRefused, type OrgTokenView } from '../store/org-token-admin.js';
import { openApiDocument } from './openapi.js';
import { expiresSoon } from '../policy/token-expiry.js';
import { isRollOverlap, ROLL_OVERLAPS } from '../store/token-lifecycle.js';
import { hashPassword, PASSWORD_MAX, passwordProblem, verifyPassword } from './password.js';
import type { App, Me, OrgToken, OrgTokens, Token } from './wire.js';
import type { PlatformSessionVerifier } from './platform-session.js';
import { apiPermissionOf, orgTokenSection } from './sections.js';
import { clearSessionCookie, requireCsrf, requireSession, sessionOf, setSessionCookie } from './session.js';
import type { SessionStore } from './session-store.js';

const BODY_LIMIT = '16kb';
/** Newest credential events shown by GET /audit. */
const AUDIT_PAGE = 200;

export interface SettingsApiOptions {
  store: Store;
  sessions: SessionStore;
  logger: Logger;
  /** Secure cookies (everywhere but development). */
  secureCookies: boolean;
  platform?: { cookie: string; verify: PlatformSessionVerifier };
}

// --- request bodies ---------------------------------------------------------------------------

const tokenName = z.string().trim().min(1, 'name must be 1 to 100 characters').max(100, 'name must be 1 to 100 characters');
const futureDate = z.iso
  .datetime({ offset: true, message: 'expiresAt must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z' })
  .refine((d) => Date.parse(d) > Date.now(), 'expiresAt must be in the future');
const bodies = {
  signIn: z.strictObject({ login: z.string().min(1).max(254), password: z.string().min(1).max(PASSWORD_MAX) }),
  setPassword: z.strictObject({ token: z.string().min(1).max(200), password: z.string() }),
  createToken: z.strictObject({ name: tokenName, expiresAt: futureDate.nullable().optional() }),
  createOrgToken: z.strictObject({ name: tokenName }),
  updateOrgToken: z.strictObject({ enabled: z.boolean() }),
  updateToken: z
    .strictObject({ name: tokenName.optional(), enabled: z.boolean().optional(), expiresAt: futureDate.nullable().optional() })
    .refine((b) => Object.keys(b).length > 0, 'give at least one of name, enabled, expiresAt'),
  rollToken: z.strictObject({
    oldExpires: z.string().refine(isRollOverlap, `oldExpires must be one of ${Object.keys(ROLL_OVERLAPS).join(', ')}`),
  }),
};

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  // Unknown keys are refused so a typo ("enable") is not silently ignored.
  throw badRequest(issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${where}${issue.message}`);
}

// --- views -------------------------------------------------------------------------------------

function orgTokenJson(t: OrgTokenView): OrgToken {
  return { id: t.id, name: t.name, hint: t.hint, origin: t.origin, enabled: t.enabled, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, lastUsedIp: t.lastUsedIp };
}

interface TokenLifecycleFacts {
  revokedAt: string | undefined;
  lastUsedIps: { ip: string; lastUsedAt: string }[];
}

function tokenJson(t: ApiTokenView, facts: TokenLifecycleFacts = { revokedAt: undefined, lastUsedIps: [] }): Token {
  return {
    id: t.id,
    name: t.name,
    hint: t.hint,
    origin: t.origin,
    enabled: t.enabled,
    expiresAt: t.expiresAt,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    lastUsedIp: t.lastUsedIp,
    lastUsedIps: facts.lastUsedIps,
    // The page marks these: expiring within 7 days (the gateway's warning header window), revoked.
    expiresSoon: expiresSoon(t.expiresAt, Date.now()),
    revoked: facts.revokedAt !== undefined,
  };
}

function appJson(a: AppView): App {
  return { id: a.grantId, clientId: a.clientId, name: a.name, description: a.description, logoUrl: a.logoUrl, scopes: a.scopes, firstAuthorizedAt: a.firstAuthorizedAt, lastUsedAt: a.lastUsedAt };
}

const actorOf = (req: Request, res: Response): Actor => ({ actor: `user:${sessionOf(res).userId}`, source: req.ip ?? null });

export function settingsApi(opts: SettingsApiOptions): Router {
  const { store, sessions, logger } = opts;
  const cookieOpts = { secure: opts.secureCookies };
  const api = express.Router();

  async function rolesOf(userId: string): Promise<RoleRecord[]> {
    const user = await store.gateway.findUser(userId);
    const roles = await Promise.all((user?.roleIds ?? []).map((id) => store.gateway.findRole(id)));
    return roles.filter((r): r is RoleRecord => !!r);
  }

  async function me(res: Response): Promise<Me> {
    const s = sessionOf(res);
    const [org, roles] = await Promise.all([store.gateway.findOrganization(s.organizationId), rolesOf(s.userId)]);
    return {
      user: { id: s.userId, loginName: s.loginName, organization: { id: s.organizationId, name: org?.name ?? '' } },
      apiPermission: apiPermissionOf(roles),
      csrfToken: s.csrfToken,
      sessionExpiresAt: s.expiresAt,
    };
  }

  async function ownToken(res: Response, id: string): Promise<ApiTokenView> {
    const s = sessionOf(res);
    const token = (await store.admin.listApiTokens(s.loginName)).find((t) => t.id === id);
    if (!token) throw notFound('API token');
    return token;
  }

  /** The views with what the lifecycle tables add: revocation and the last distinct addresses. */
  async function withFacts(views: ApiTokenView[]) {
    const ids = views.map((v) => v.id);
    const [revoked, ips] = await Promise.all([store.lifecycle.revokedOf(ids), store.lifecycle.usageIps(ids)]);
    return views.map((v) => tokenJson(v, { revokedAt: revoked.get(v.id), lastUsedIps: ips.get(v.id) ?? [] }));
  }

  async function startSession(res: Response, userId: string, source: string) {
    const created = await sessions.create(userId, source);
    setSessionCookie(res, created.id, created.expiresAt, cookieOpts);
    const found = await sessions.find(created.id);
    if (!found.ok) throw new InternalError();
    res.locals.session = { ...found.session, cookie: created.id };
  }

  api.use((_req, res, next) => {
    // Nothing here may be cached: responses carry CSRF tokens and, once, a token secret.
    res.set('Cache-Control', 'no-store');
    next();
  });
  // Bodies are JSON only: a cross-site form cannot send application/json without a CORS preflight.
  api.use((req, _res, next) => {
    if (['POST', 'PATCH', 'PUT', 'DELETE'].includes(req.method) && req.headers['content-length'] !== '0' && req.headers['content-length'] !== undefined && !req.is('application/json')) {
      throw notJson();
    }
    next();
  });
  api.use(express.json({ limit: BODY_LIMIT, strict: true }));

  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  // --- sign-in (no session yet) ---
  api.post('/session', signInAttempts(), async (req, res) => {
    const body = parse(bodies.signIn, req.body);
    const user = await sessions.findUserByLogin(body.login);
    const ok = await verifyPassword(body.password, user?.passwordHash);
    if (!ok || !user?.enabled) {
      logger.info('settings sign-in refused', { reason: !user ? 'unknown-login' : !user.enabled ? 'user-disabled' : 'wrong-password' });
      throw signInFailed();
    }
    await startSession(res, user.id, 'password');
    // Sign-ins are rare: a good moment to drop sessions and links that expired unused.
    sessions.prune().catch((e: Error) => logger.warn('expired settings sessions not pruned', { error: e.message }));
    logger.info('settings sign-in', { userId: user.id, source: 'password' });
    res.json(await me(res));
  });

  api.post('/password', linkAttempts(), async (req, res) => {
    const body = parse(bodies.setPassword, req.body);
    const problem = passwordProblem(body.password);
    if (problem) throw badRequest(problem);
    const userId = await sessions.consumePasswordLink(body.token);
    if (!userId) throw linkInvalid();
    await store.admin.setUserPasswordHash({ actor: `user:${userId}`, source: req.ip ?? null }, userId, await hashPassword(body.password));
    await sessions.destroyAllOf(userId);
    await startSession(res, userId, 'link');
    logger.info('settings password set from a link', { userId });
    res.json(await me(res));
  });

  // --- everything below needs a session, and a CSRF token to change anything ---
  api.use(requireSession({ sessions, secure: opts.secureCookies, platform: opts.platform }), requireCsrf);

  api.get('/me', async (_req, res) => {
    res.json(await me(res));
  });

  api.delete('/session', async (_req, res) => {
    await sessions.destroy(sessionOf(res).cookie);
    clearSessionCookie(res, cookieOpts);
    res.status(204).end();
  });

  api.get('/tokens', async (_req, res) => {
    res.json(await withFacts(await store.admin.listApiTokens(sessionOf(res).loginName)));
  });

  api.post('/tokens', async (req, res) => {
    const body = parse(bodies.createToken, req.body);
    const s = sessionOf(res);
    // New tokens start disabled (DESIGN.md §2): the user turns one on when the integration is ready.
    const { token, secret } = await store.admin.createApiToken(actorOf(req, res), s.loginName, body.name, { enabled: false, expiresAt: body.expiresAt ?? null });
    logger.info('settings token created', { userId: s.userId, tokenId: token.id });
    res.status(201).json({ token: tokenJson(token), secret });
  });

  api.patch('/tokens/:id', async (req, res) => {
    const body = parse(bodies.updateToken, req.body);
    const token = await ownToken(res, req.params.id as string);
    const who = actorOf(req, res);
    if (body.name !== undefined && body.name !== token.name) await store.admin.renameApiToken(who, token.id, body.name);
    if (body.expiresAt !== undefined) await store.admin.setApiTokenExpiry(who, token.id, body.expiresAt);
    if (body.enabled !== undefined && body.enabled !== token.enabled) await store.admin.setApiTokenEnabled(who, token.id, body.enabled);
    res.json((await withFacts([await ownToken(res, token.id)]))[0]);
  });

  // Roll: a new secret for the same record; the old one keeps working until the chosen time.
  api.post('/tokens/:id/roll', async (req, res) => {
    const body = parse(bodies.rollToken, req.body);
    const token = await ownToken(res, req.params.id as string);
    const rolled = await store.lifecycle.rollApiToken(actorOf(req, res), token.id, body.oldExpires as keyof typeof ROLL_OVERLAPS);
    logger.info('settings token rolled', { userId: sessionOf(res).userId, tokenId: token.id, oldSecretExpiresAt: rolled.oldSecretExpiresAt });
    const [view] = await withFacts([await ownToken(res, token.id)]);
    res.json({ token: view, secret: rolled.secret, oldSecretExpiresAt: rolled.oldSecretExpiresAt });
  });

  // The signed-in user's own credential events: their tokens, their account, what they did.
  api.get('/audit', async (_req, res) => {
    const events = await store.lifecycle.auditEvents({ userId: sessionOf(res).userId });
    res.json(events.slice(-AUDIT_PAGE).reverse());
  });

  api.delete('/tokens/:id', async (req, res) => {
    const token = await ownToken(res, req.params.id as string);
    await store.admin.deleteApiToken(actorOf(req, res), token.id);
    logger.info('settings token deleted', { userId: sessionOf(res).userId, tokenId: token.id });
    res.status(204).end();
  });

  // Organization API tokens (deprecated): managed by users of the organization who hold the API
  // permission while the flag is on (store/org-token-admin.ts enforces it on every write).
  const orgTokenAdmin = new OrgTokenAdmin(store.db);
  const orgSection = async (res: Response) => {
    const s = sessionOf(res);
    const [org, roles] = await Promise.all([store.gateway.findOrganization(s.organizationId), rolesOf(s.userId)]);
    return orgTokenSection(org, roles);
  };
  /** The section must be shown and enabled before anything in it is touched. */
  const requireOrgSection = async (res: Response) => {
    const section = await orgSection(res);
    if (!section.visible) throw notFound('section: your organization does not use organization API tokens');
    if (!section.enabled) throw sectionDisabled(section.reason!);
  };
  const orgTokenWrite = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof OrgTokenManagementRefused) throw sectionDisabled(`You may not manage organization API tokens: ${MANAGEMENT_REFUSAL_TEXT[e.reason]}.`);
      if (e instanceof StoreError && e.code === 'NotFound') throw notFound('organization API token');
      throw e;
    }
  };
  api.get('/org-tokens', async (_req, res) => {
    const section = await orgSection(res);
    const tokens = section.enabled ? await orgTokenAdmin.list(sessionOf(res).loginName) : [];
    const body: OrgTokens = { section, tokens: tokens.map(orgTokenJson) };
    res.json(body);
  });
  api.post('/org-tokens', async (req, res) => {
    await requireOrgSection(res);
    const body = parse(bodies.createOrgToken, req.body);
    const s = sessionOf(res);
    // Like personal tokens, organization tokens start disabled.
    const { token, secret } = await orgTokenWrite(() => orgTokenAdmin.create(actorOf(req, res), s.loginName, body.name, { enabled: false }));
    logger.info('settings organization token created', { userId: s.userId, orgTokenId: token.id });
    res.status(201).json({ token: orgTokenJson(token), secret });
  });
  api.patch('/org-tokens/:id', async (req, res) => {
    await requireOrgSection(res);
    const body = parse(bodies.updateOrgToken, req.body);
    const token = await orgTokenWrite(() => orgTokenAdmin.setEnabled(actorOf(req, res), sessionOf(res).loginName, req.params.id as string, body.enabled));
    res.json(orgTokenJson(token));
  });
  api.delete('/org-tokens/:id', async (req, res) => {
    await requireOrgSection(res);
    await orgTokenWrite(() => orgTokenAdmin.delete(actorOf(req, res), sessionOf(res).loginName, req.params.id as string));
    res.status(204).end();
  });

  // Apps and Connections: the user's live OAuth grants. Revoking one revokes its refresh tokens and,
  // through the change feed (`grant:<id>`), its access tokens on the next request.
  const oauth = new OAuthStore(store.db);
  api.get('/apps', async (_req, res) => {
    res.json((await oauth.appsOf(sessionOf(res).userId)).map(appJson));
  });
  api.delete('/apps/:grantId', async (req, res) => {
    const s = sessionOf(res);
    const grantId = req.params.grantId as string;
    // Another user's grant is answered like one that does not exist.
    if (!(await oauth.appsOf(s.userId)).some((a) => a.grantId === grantId)) throw notFound('app authorization');
    await oauth.revokeGrant(actorOf(req, res), grantId, 'revoked by the user in Apps and Connections');
    logger.info('settings app access revoked', { userId: s.userId, grantId });
    res.status(204).end();
  });

  api.use(() => {
    throw notFound('settings API resource');
  });
  api.use(errorHandler({ logger, what: 'settings API', outcomeOf: storeOutcome }));
  return api;
}

/** The store's refusals of a settings write, as the settings API's outcomes. */
function storeOutcome(err: unknown): GatehouseError | undefined {
  if (!(err instanceof StoreError)) return undefined;
  return err.code === 'NotFound' ? notFound('API token') : err.code === 'Conflict' ? conflict(`${err.message}: token names are unique per user.`) : badRequest(err.message);
}
