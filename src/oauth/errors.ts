// oauth/: the outcomes of the OAuth endpoints, in the RFC 6749 §5.2 form ({"error","error_description"},
// 400, or 401 for invalid_client), never a stack. They are GatehouseErrors — `code` is the RFC's
// `error`, `message` its `error_description` — so the web surface's one error handler
// (web/error-handler.ts) handles them like every other outcome; endpoints/http.ts writes the body.
import { GatehouseError } from '../outcomes/errors.js';

export class OAuthError extends GatehouseError {
  constructor(
    readonly code: string,
    description: string,
    readonly status = 400,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    super(description);
  }

  override headers(): Record<string, string> {
    return { ...super.headers(), ...this.extraHeaders };
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidClient = (d = 'Client authentication failed.') => new OAuthError('invalid_client', d, 401);
export const unsupportedGrantType = () => new OAuthError('unsupported_grant_type', 'Only authorization_code and refresh_token are supported.');
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
export const temporarilyUnavailable = (d: string) => new OAuthError('temporarily_unavailable', d, 429);
export const serverError = (supportId: string) => new OAuthError('server_error', `Internal error (support id ${supportId}).`, 500);
/** A method the endpoint does not answer (RFC 9110 §15.5.6: with the methods it does, in Allow). */
export const methodNotAllowed = (allow: string[]) => new OAuthError('invalid_request', `Use ${allow[0]} (this endpoint answers ${allow.join(', ')}).`, 405, { Allow: allow.join(', ') });
/** A browser's request (it sent Origin) from an origin that is not a registered redirect URI's origin of a public client. */
export const originNotAllowed = () =>
  new OAuthError('invalid_request', "Requests from this origin are not accepted: only from the origin of a public client's registered redirect URI.", 403);
