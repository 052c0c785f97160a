// oauth/endpoints: the HTTP conventions every OAuth endpoint shares — form bodies with each
// parameter once (RFC 6749 §3.2), answers that are never cached (§5.1), and errors in the §5.2 form,
// which is how the web surface's one error handler (web/error-handler.ts) answers on these routes.
import express, { type Request, type Response } from 'express';
import { oauthTokenRequests } from '../../observability/metrics.js';
import type { GatehouseError } from '../../outcomes/errors.js';
import type { SendError } from '../../web/error-handler.js';
import { invalidRequest, OAuthError, serverError, temporarilyUnavailable } from '../errors.js';

/** The token, revocation, introspection, sign-in and consent bodies. */
export const FORM = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });

/** The paths of the token endpoint (and its platform alias), whose outcomes are counted by grant type. */
export const TOKEN_PATHS = ['/oauth/token', '/ApiToken/Retrieve'];
const TOKEN_PATH_KEYS = new Set(TOKEN_PATHS.map((p) => p.toLowerCase()));

export function noStore(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

/** Body parameters given once, as strings (RFC 6749 §3.2: parameters must not repeat). */
export function params(req: Request): Record<string, string> {
  if (!req.is('application/x-www-form-urlencoded')) throw invalidRequest('Send the request body as application/x-www-form-urlencoded.');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalidRequest(`The parameter ${k} is repeated.`);
    out[k] = v;
  }
  return out;
}

/** Counts a token request's outcome (`issued`, or the §5.2 error), by grant type. */
export function countTokenRequest(req: Request, outcome: string): void {
  const grantType = (req.body as { grant_type?: unknown } | undefined)?.grant_type;
  oauthTokenRequests.inc({ grant_type: grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other', outcome });
}

/** Another outcome (a body the parser refused, the sign-in brake, a failure) in the §5.2 vocabulary. */
function asOAuthError(out: GatehouseError, supportId: string): OAuthError {
  if (out instanceof OAuthError) return out;
  if (out.status >= 500) return serverError(supportId);
  if (out.status === 429) return temporarilyUnavailable(out.code === 'TooManyAttempts' ? 'Too many failed sign-ins; wait a few minutes.' : out.message);
  return invalidRequest(out.message);
}

/**
 * An outcome as the RFC 6749 §5.2 body {"error","error_description"}. The support id (the access
 * line's request id) goes in the X-Request-Id header, as on every other error of the gateway: the
 * body keeps exactly the members the RFC defines, which client libraries parse; a server_error also
 * names it in its description, the one place a person reads it.
 */
export const sendOAuthError: SendError = (req, res, out, requestId) => {
  const e = asOAuthError(out, requestId);
  noStore(res);
  res.set({ ...out.headers(), 'X-Request-Id': requestId });
  if (TOKEN_PATH_KEYS.has(req.originalUrl.split('?')[0]!.toLowerCase())) countTokenRequest(req, e.code);
  // RFC 6749 §5.2: a client that tried HTTP Basic is told the scheme again.
  if (e.status === 401 && req.headers.authorization) res.set('WWW-Authenticate', 'Basic realm="gatehouse"');
  res.status(e.status).json({ error: e.code, error_description: e.message });
};
