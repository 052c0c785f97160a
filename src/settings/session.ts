// settings/: the session cookie and the CSRF check. The cookie is HttpOnly, SameSite=Strict and
// Secure outside development (RFC 6265bis); every mutating request must also carry the session's
// CSRF token in X-CSRF-Token (a synchronizer token, OWASP CSRF cheat sheet), compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import type { Actor } from '../store/index.js';
import type { PlatformSessionVerifier } from './platform-session.js';
import { csrfInvalid, csrfMissing, sessionExpired, sessionRequired } from './errors.js';
import type { Session, SessionStore } from './session-store.js';

export const SESSION_COOKIE = 'gatehouse_session';
export const CSRF_HEADER = 'x-csrf-token';
const COOKIE_PATH = '/settings';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CookieOptions {
  secure: boolean;
}

export function setSessionCookie(res: Response, id: string, expiresAt: string, opts: CookieOptions): void {
  res.append(
    'Set-Cookie',
    serialize(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: opts.secure, path: COOKIE_PATH, expires: new Date(expiresAt) }),
  );
}

export function clearSessionCookie(res: Response, opts: CookieOptions): void {
  res.append('Set-Cookie', serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', secure: opts.secure, path: COOKIE_PATH, maxAge: 0 }));
}

/** The session the request was authenticated with (set by requireSession). */
export function sessionOf(res: Response): Session & { cookie: string } {
  return res.locals.session as Session & { cookie: string };
}

/** The signed-in user as the audit trail names them, from the client's address. */
export const actorOf = (req: Request, res: Response): Actor => ({ actor: `user:${sessionOf(res).userId}`, source: req.ip ?? null });

export interface RequireSessionOptions extends CookieOptions {
  sessions: SessionStore;
  platform?: { cookie: string; verify: PlatformSessionVerifier };
}

/** 401 without a live session; a valid platform cookie starts one (the hand-over). */
export function requireSession(opts: RequireSessionOptions): RequestHandler {
  return async (req, res, next) => {
    const cookies = parseCookies(req.headers.cookie ?? '');
    const id = cookies[SESSION_COOKIE];
    let expired = false;
    if (id) {
      const found = await opts.sessions.find(id);
      if (found.ok) {
        res.locals.session = { ...found.session, cookie: id };
        return next();
      }
      expired = found.reason === 'expired';
    }
    const platformJwt = opts.platform && cookies[opts.platform.cookie];
    const login = platformJwt ? opts.platform!.verify(platformJwt) : undefined;
    const user = login ? await opts.sessions.findUserByLogin(login) : undefined;
    if (user?.enabled) {
      const created = await opts.sessions.create(user.id, 'platform');
      setSessionCookie(res, created.id, created.expiresAt, opts);
      const found = await opts.sessions.find(created.id);
      if (found.ok) {
        res.locals.session = { ...found.session, cookie: created.id };
        return next();
      }
    }
    if (id) clearSessionCookie(res, opts);
    throw expired ? sessionExpired() : sessionRequired();
  };
}

/** 403 on a mutating request without the session's CSRF token. */
export const requireCsrf: RequestHandler = (req, res, next) => {
  if (SAFE_METHODS.has(req.method)) return next();
  const given = req.headers[CSRF_HEADER];
  if (typeof given !== 'string' || given.length === 0) throw csrfMissing();
  const expected = Buffer.from(sessionOf(res).csrfToken);
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw csrfInvalid();
  next();
};
