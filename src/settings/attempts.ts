// settings/: a brake on guessing — failed sign-ins per client address and login name, failed
// set-password attempts per address (express-rate-limit, counted in this process's memory;
// successful requests are not counted). Over the limit: 429 with Retry-After.
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { TooManyAttempts } from './errors.js';

const WINDOW_MS = 15 * 60_000;
export const SIGN_IN_FAILURES = 10;
export const LINK_FAILURES = 20;

function limiter(limit: number, key: (req: Request) => string): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: key,
    handler: (_req, _res, next) => next(new TooManyAttempts(WINDOW_MS / 1000)),
  });
}

const address = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

/** Per address and login name, so one user's typos do not lock out a whole office behind one NAT. */
export const signInAttempts = () =>
  limiter(SIGN_IN_FAILURES, (req) => {
    const login: unknown = (req.body as { login?: unknown } | undefined)?.login;
    return `${address(req)}|${typeof login === 'string' ? login.trim().toLowerCase() : ''}`;
  });

export const linkAttempts = () => limiter(LINK_FAILURES, address);
