// oauth/endpoints: the authorization endpoint (RFC 6749 §4.1.1, PKCE RFC 7636) and the user's part
// of it. /oauth/authorize (alias /Auth/Authorize) checks the request and hands it to
// /settings/authorize, where the settings session cookie (Path=/settings) is visible: no session →
// a sign-in form (POST /settings/authorize/sign-in, under the settings sign-in's brake: one budget
// per client address and one per login name over both ways to sign in; spent, the form again with
// 429 and Retry-After), then the consent page, whose Allow/Deny posts back (POST
// /settings/authorize) with the session's CSRF token. Allowed: a code goes back to the client's
// redirect URI with `state` and `iss` (RFC 9207).
import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger.js';
import type { SignInBrake } from '../../settings/attempts.js';
import { TooManyAttempts } from '../../settings/errors.js';
import { verifyPassword } from '../../settings/password.js';
import { requireSession, sessionOf, setSessionCookie, type RequireSessionOptions } from '../../settings/session.js';
import type { Session, SessionStore } from '../../settings/session-store.js';
import { checkAuthorizeRequest, redirectWith, type AuthorizeCheck, type AuthorizeRequest } from '../authorize-request.js';
import { consentPage, errorPage, pageHeaders, signInPage } from '../consent-page.js';
import type { OAuthStore } from '../../store/oauth-store.js';
import { FORM, params } from './http.js';

const CONSENT_PATH = '/settings/authorize';

export interface AuthorizeDeps {
  /** Clients (to check a request) and grants (what consent creates). */
  oauth: Pick<OAuthStore, 'findClient' | 'authorize'>;
  sessions: SessionStore;
  /** The settings session's cookie options and platform hand-over. */
  session: Omit<RequireSessionOptions, 'sessions'>;
  /** The settings sign-in's guessing brake (settings/attempts.ts): both ways to sign in spend the same budgets. */
  brake: SignInBrake;
  issuer: () => string;
  logger: Logger;
}

/** A form posted from another site (login CSRF, consent forgery) is refused; browsers send Origin on POST. */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The query string of the request, without its `?`. */
const queryOf = (req: Request) => {
  const q = req.originalUrl.indexOf('?');
  return q >= 0 ? req.originalUrl.slice(q + 1) : '';
};

const showError = (res: Response, status: number, message: string) => res.status(status).set(pageHeaders()).type('html').send(errorPage(message));

/** A refused request: shown to the user when the client or redirect URI cannot be trusted (§4.1.2.1), else sent back to the client. */
const refuse = (res: Response, check: Extract<AuthorizeCheck, { ok: false }>) => ('show' in check ? showError(res, 400, check.show) : res.redirect(303, check.redirect));

export function authorizeEndpoints(deps: AuthorizeDeps): Router {
  const { oauth, sessions, issuer, logger } = deps;
  const router = express.Router();
  const session = requireSession({ sessions, ...deps.session });

  /** The settings session of this request, if there is a live one (or a platform hand-over). */
  async function sessionFor(req: Request, res: Response): Promise<(Session & { cookie: string }) | undefined> {
    let found = false;
    try {
      await session(req, res, () => {
        found = true;
      });
    } catch {
      return undefined;
    }
    return found ? sessionOf(res) : undefined;
  }

  /** Sign-in without a session, else consent. */
  async function showStep(req: Request, res: Response, r: AuthorizeRequest, query: string, error?: string) {
    const s = await sessionFor(req, res);
    res.set(pageHeaders(r.redirectUri)).type('html');
    if (!s) return res.status(error ? 401 : 200).send(signInPage(r, query, error));
    res.send(consentPage(r, s.loginName, s.csrfToken));
  }

  // Checked here, then handed to the path where the session cookie is visible.
  router.get(['/oauth/authorize', '/Auth/Authorize'], async (req, res) => {
    const check = await checkAuthorizeRequest(req.query as Record<string, unknown>, oauth, issuer());
    if (!check.ok) return refuse(res, check);
    const query = queryOf(req);
    res.set('Cache-Control', 'no-store').redirect(303, `${CONSENT_PATH}${query ? `?${query}` : ''}`);
  });

  router.get(CONSENT_PATH, async (req, res) => {
    const check = await checkAuthorizeRequest(req.query as Record<string, unknown>, oauth, issuer());
    if (!check.ok) return refuse(res, check);
    await showStep(req, res, check.request, queryOf(req));
  });

  router.post(`${CONSENT_PATH}/sign-in`, FORM, async (req, res) => {
    if (!sameOrigin(req)) return showError(res, 403, 'This sign-in form was sent from another site.');
    const body = params(req);
    const query = body.query ?? '';
    const check = await checkAuthorizeRequest(Object.fromEntries(new URLSearchParams(query)), oauth, issuer());
    if (!check.ok) return refuse(res, check);
    const login = body.login ?? '';
    let user;
    try {
      user = await deps.brake.signIn(req, login, async () => {
        const found = login ? await sessions.findUserByLogin(login) : undefined;
        const ok = await verifyPassword(body.password ?? '', found?.passwordHash);
        return ok && found?.enabled ? found : undefined;
      });
    } catch (e) {
      if (!(e instanceof TooManyAttempts)) throw e;
      const minutes = Math.ceil(e.retryAfterSeconds / 60);
      const wait = `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
      res.status(429).set({ ...pageHeaders(), ...e.headers() }).type('html').send(signInPage(check.request, query, wait));
      return;
    }
    if (!user) {
      res.status(401).set(pageHeaders()).type('html').send(signInPage(check.request, query, 'Wrong login name or password.'));
      return;
    }
    const created = await sessions.create(user.id, 'oauth');
    setSessionCookie(res, created.id, created.expiresAt, deps.session);
    logger.info('settings sign-in', { userId: user.id, source: 'oauth' });
    res.redirect(303, `${CONSENT_PATH}?${query}`);
  });

  router.post(CONSENT_PATH, FORM, async (req, res) => {
    if (!sameOrigin(req)) return showError(res, 403, 'This consent form was sent from another site.');
    const { decision, csrf_token: csrf, ...rest } = params(req);
    const check = await checkAuthorizeRequest(rest, oauth, issuer());
    if (!check.ok) return refuse(res, check);
    const r = check.request;
    const s = await sessionFor(req, res);
    if (!s) return showStep(req, res, r, new URLSearchParams(rest).toString(), 'Your session has expired; sign in again.');
    const expected = Buffer.from(s.csrfToken);
    const given = Buffer.from(csrf ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return showError(res, 403, 'This form has expired. Go back to the application and start again.');
    if (decision !== 'allow') return res.redirect(303, redirectWith(r.redirectUri, { error: 'access_denied', error_description: 'The user denied access.', state: r.state, iss: issuer() }));
    const { code, grantId } = await oauth.authorize(
      { actor: `user:${s.userId}`, source: req.ip ?? null },
      { userId: s.userId, organizationId: s.organizationId, clientId: r.client.id, scope: r.scope, redirectUri: r.redirectUri, codeChallenge: r.codeChallenge },
    );
    logger.info('oauth consent', { userId: s.userId, clientId: r.client.id, grantId, scope: r.scope });
    res.redirect(303, redirectWith(r.redirectUri, { code, state: r.state, iss: issuer() }));
  });

  return router;
}
