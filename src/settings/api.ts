// settings/: the JSON API under /settings/api/ — sign-in, the user's API tokens, the organization
// token section and apps. Every token write goes through AdminStore, the audited, change-feeding
// write path the CLI uses, so the gateway sees a change on its next change-feed poll.
// A token of another user is answered 404, exactly like one that does not exist.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { GatehouseError, InternalError } from '../pipeline/errors.js';
import { sendRestError } from '../pipeline/rest-response.js';
import type { RoleRecord } from '../store/records.js';
import { StoreError, type Actor, type ApiTokenView, type Store } from '../store/index.js';
import { linkAttempts, signInAttempts } from './attempts.js';
import { badRequest, conflict, linkInvalid, notFound, notImplemented, notJson, sectionDisabled, signInFailed, tooLarge } from './errors.js';
import { openApiDocument } from './openapi.js';
import { expiresSoon } from '../policy/token-expiry.js';
import { isRollOverlap, ROLL_OVERLAPS } from '../store/token-lifecycle.js';
import { hashPassword, PASSWORD_MAX, passwordProblem, verifyPassword } from './password.js';
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

interface TokenLifecycleFacts {
  revokedAt: string | undefined;
  lastUsedIps: { ip: string; lastUsedAt: string }[];
}

function tokenJson(t: ApiTokenView, facts: TokenLifecycleFacts = { revokedAt: undefined, lastUsedIps: [] }) {
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

  async function me(res: Response) {
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

  // Organization API tokens (deprecated): the section's state now; creating and managing them
  // arrives with the organization-token work.
  api.get('/org-tokens', async (_req, res) => {
    const s = sessionOf(res);
    const [org, roles] = await Promise.all([store.gateway.findOrganization(s.organizationId), rolesOf(s.userId)]);
    res.json({ section: orgTokenSection(org, roles), tokens: [] });
  });
  api.post('/org-tokens', async (_req, res) => {
    const s = sessionOf(res);
    const [org, roles] = await Promise.all([store.gateway.findOrganization(s.organizationId), rolesOf(s.userId)]);
    const section = orgTokenSection(org, roles);
    if (!section.visible) throw notFound('section: your organization does not use organization API tokens');
    if (!section.enabled) throw sectionDisabled(section.reason!);
    throw notImplemented('Creating organization API tokens here is not available yet; ask an operator.');
  });
  api.patch('/org-tokens/:id', () => {
    throw notFound('organization API token');
  });
  api.delete('/org-tokens/:id', () => {
    throw notFound('organization API token');
  });

  // Apps and Connections: OAuth grants arrive with the OAuth server; until then there are none.
  api.get('/apps', (_req, res) => {
    res.json([]);
  });
  api.delete('/apps/:grantId', () => {
    throw notFound('app authorization');
  });

  api.use(() => {
    throw notFound('settings API resource');
  });
  api.use(errorHandler(logger));
  return api;
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const requestId = randomUUID();
    let out: GatehouseError;
    if (err instanceof GatehouseError) out = err;
    else if (err instanceof StoreError) {
      out = err.code === 'NotFound' ? notFound('API token') : err.code === 'Conflict' ? conflict(`${err.message}: token names are unique per user.`) : badRequest(err.message);
    } else if (isHttpError(err) && err.type === 'entity.parse.failed') out = badRequest('The request body is not valid JSON.');
    else if (isHttpError(err) && err.type === 'entity.too.large') out = tooLarge();
    else if (isHttpError(err) && err.status === 415) out = notJson();
    else {
      logger.error('settings API failed', { requestId, method: req.method, path: req.path, error: (err as Error)?.message });
      out = new InternalError();
    }
    if (out.status < 500) logger.debug('settings API refused', { requestId, code: out.code, method: req.method, path: req.path });
    sendRestError(res, out, requestId);
  };
}

function isHttpError(e: unknown): e is { type?: string; status?: number } {
  return typeof e === 'object' && e !== null && ('type' in e || 'status' in e);
}

