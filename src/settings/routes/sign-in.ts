// settings/routes: signing in, before there is a session — POST /session (login name and password)
// and POST /password (a one-time set-password link, which also signs in). Both are braked
// (settings/attempts.ts; the sign-in brake is the one the OAuth consent sign-in shares) and answer
// like GET /me, with the session cookie set.
import express, { type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import { InternalError } from '../../outcomes/errors.js';
import type { AdminStore } from '../../store/admin-store.js';
import type { Account } from '../account.js';
import type { SignInBrake } from '../attempts.js';
import { parseBody } from '../body.js';
import { badRequest, linkInvalid, signInFailed } from '../errors.js';
import { hashPassword, passwordProblem, verifyPassword } from '../password.js';
import { setSessionCookie, type CookieOptions } from '../session.js';
import type { Session, SessionStore } from '../session-store.js';
import { SetPassword, SignIn } from '../wire.js';

export interface SignInRoutesDeps {
  sessions: SessionStore;
  /** Where a password set from a link is written (audited). */
  passwords: Pick<AdminStore, 'setUserPasswordHash'>;
  account: Account;
  cookies: CookieOptions;
  /** Guessing budgets per client address and login name, shared with the OAuth consent sign-in. */
  brake: SignInBrake;
  logger: Logger;
}

export function signInRoutes(deps: SignInRoutesDeps): Router {
  const { sessions, account, logger } = deps;
  const router = express.Router();

  /** Starts a session and sets its cookie. */
  async function startSession(res: Response, userId: string, source: string): Promise<Session> {
    const created = await sessions.create(userId, source);
    setSessionCookie(res, created.id, created.expiresAt, deps.cookies);
    const found = await sessions.find(created.id);
    if (!found.ok) throw new InternalError();
    res.locals.session = { ...found.session, cookie: created.id };
    return found.session;
  }

  router.post('/session', async (req, res) => {
    const body = parseBody(SignIn, req.body);
    const user = await deps.brake.signIn(req, body.login, async () => {
      const found = await sessions.findUserByLogin(body.login);
      const ok = await verifyPassword(body.password, found?.passwordHash);
      if (ok && found?.enabled) return found;
      logger.info('settings sign-in refused', { reason: !found ? 'unknown-login' : !found.enabled ? 'user-disabled' : 'wrong-password' });
      return undefined;
    });
    if (!user) throw signInFailed();
    const session = await startSession(res, user.id, 'password');
    // Sign-ins are rare: a good moment to drop sessions and links that expired unused.
    sessions.prune().catch((e: Error) => logger.warn('expired settings sessions not pruned', { error: e.message }));
    logger.info('settings sign-in', { userId: user.id, source: 'password' });
    res.json(await account.me(session));
  });

  router.post('/password', async (req, res) => {
    const body = parseBody(SetPassword, req.body);
    const problem = passwordProblem(body.password);
    if (problem) throw badRequest(problem);
    const userId = await deps.brake.link(req, () => sessions.consumePasswordLink(body.token));
    if (!userId) throw linkInvalid();
    await deps.passwords.setUserPasswordHash({ actor: `user:${userId}`, source: req.ip ?? null }, userId, await hashPassword(body.password));
    await sessions.destroyAllOf(userId);
    const session = await startSession(res, userId, 'link');
    logger.info('settings password set from a link', { userId });
    res.json(await account.me(session));
  });

  return router;
}
