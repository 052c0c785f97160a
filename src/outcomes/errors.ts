// outcomes/: the ground floor — one error type per outcome of a request, each with a stable `code`
// that callers switch on (never the message text), the HTTP status, and the public message. It
// imports nothing of ours, so every layer may name these. The message never contains a
// credential; internal detail stays in the log, never in a response. Mapped to the REST error body
// in pipeline/rest-response.ts and to the SOAP answers in soap/ (api-result.ts, faults.ts).

export abstract class GatehouseError {
  abstract readonly code: string;
  abstract readonly status: number;
  constructor(readonly message: string) {}
  /** Seconds a client should wait before trying again; sent as Retry-After when set. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(this.retryAfterSeconds) };
  }
}

const WWW_AUTHENTICATE = 'Bearer realm="gatehouse", apiToken';

abstract class Unauthenticated extends GatehouseError {
  readonly status = 401;
  override headers() {
    return { 'WWW-Authenticate': WWW_AUTHENTICATE };
  }
}

export class CredentialMissing extends Unauthenticated {
  readonly code = 'CredentialMissing';
  constructor() {
    super('No credential: send your API token in the apiToken header or as Authorization: Bearer.');
  }
}
export class CredentialMalformed extends Unauthenticated {
  readonly code = 'CredentialMalformed';
  constructor(message = 'The credential is not a well-formed API token.') {
    super(message);
  }
}
export class CredentialUnknown extends Unauthenticated {
  readonly code = 'CredentialUnknown';
  constructor() {
    super('The API token is not valid.');
  }
}
export class CredentialDisabled extends Unauthenticated {
  readonly code = 'CredentialDisabled';
  constructor() {
    super('The API token is disabled. Enable it under API Tokens and Apps.');
  }
}
export class CredentialExpired extends Unauthenticated {
  readonly code = 'CredentialExpired';
  constructor() {
    super('The API token has expired.');
  }
}
/** Revoked because the secret was reported found in public code (security/leaked-tokens). */
export class CredentialRevoked extends Unauthenticated {
  readonly code = 'CredentialRevoked';
  constructor() {
    super('token revoked: found in public code');
  }
}
export class UserDisabled extends Unauthenticated {
  readonly code = 'UserDisabled';
  constructor() {
    super('The user of this API token is disabled.');
  }
}
export class CredentialConflict extends GatehouseError {
  readonly code = 'CredentialConflict';
  readonly status = 400;
  constructor() {
    super('The request carries more than one different credential; send exactly one.');
  }
}
export class PermissionDenied extends GatehouseError {
  readonly code = 'PermissionDenied';
  readonly status = 403;
  constructor() {
    super('The user does not have the API permission.');
  }
}
export class PathRefused extends GatehouseError {
  readonly code = 'PathRefused';
  readonly status = 400;
  constructor() {
    super('The request path is not allowed (encoded slash, backslash or control character).');
  }
}
export class RouteNotFound extends GatehouseError {
  readonly code = 'RouteNotFound';
  readonly status = 404;
  constructor() {
    super('No such API resource.');
  }
}
export class StoreUnavailable extends GatehouseError {
  readonly code = 'StoreUnavailable';
  readonly status = 503;
  constructor() {
    super('The credential store is unavailable; try again shortly.');
  }
  override readonly retryAfterSeconds = 5;
}
export class UpstreamUnavailable extends GatehouseError {
  readonly code = 'UpstreamUnavailable';
  readonly status = 502;
  constructor() {
    super('The upstream service is unavailable.');
  }
}
export class UpstreamTimeout extends GatehouseError {
  readonly code = 'UpstreamTimeout';
  readonly status = 504;
  constructor() {
    super('The upstream service did not answer in time.');
  }
}
export class InternalError extends GatehouseError {
  readonly code = 'InternalError';
  readonly status = 500;
  constructor() {
    super('Internal error.');
  }
}

// --- organization API tokens (deprecated credential; DESIGN.md §3.4) ----------------------------

export class OrgTokenLoginMissing extends GatehouseError {
  readonly code = 'OrgTokenLoginMissing';
  readonly status = 400;
  constructor() {
    super('An organization token needs the userLoginName header naming the user to act for.');
  }
}
export class VersionNotAllowed extends GatehouseError {
  readonly code = 'VersionNotAllowed';
  readonly status = 403;
  constructor() {
    super('Organization tokens are accepted on API versions 1 to 5 only. Use a user API token for version 6 and later.');
  }
}
export class FeatureFlagMissing extends GatehouseError {
  readonly code = 'FeatureFlagMissing';
  readonly status = 403;
  constructor() {
    super('Organization API tokens are not enabled for this organization (feature OrganizationApiToken).');
  }
}
/** One message for an unknown login and a user of another organization: no way to probe which logins exist. */
export class ActingUserNotAllowed extends GatehouseError {
  readonly code = 'ActingUserNotAllowed';
  readonly status = 403;
  constructor() {
    super('This organization token cannot act for the user named in userLoginName.');
  }
}
export class ActingUserDisabled extends GatehouseError {
  readonly code = 'ActingUserDisabled';
  readonly status = 403;
  constructor() {
    super('The user named in userLoginName is disabled.');
  }
}

// --- OAuth access tokens (RFC 6750 §3.1: the error goes in WWW-Authenticate too) ----------------

export class AccessTokenInvalid extends GatehouseError {
  readonly code = 'AccessTokenInvalid';
  readonly status = 401;
  constructor(readonly reason: 'invalid' | 'expired' | 'revoked' = 'invalid') {
    super(reason === 'expired' ? 'The access token has expired; refresh it.' : reason === 'revoked' ? 'The access to this application has been revoked.' : 'The access token is not valid.');
  }
  override headers() {
    return { 'WWW-Authenticate': 'Bearer realm="gatehouse", error="invalid_token"' };
  }
}
/** The access token's scopes do not cover the call; `needed` is the scope that would (`envelope:write`), or `api`. */
export class ScopeInsufficient extends GatehouseError {
  readonly code = 'ScopeInsufficient';
  readonly status = 403;
  constructor(readonly needed: string = 'api') {
    super(`The access token's scope does not cover this call: it needs ${needed === 'api' ? 'api' : `${needed} (or api)`}.`);
  }
  override headers() {
    return { 'WWW-Authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${this.needed}"` };
  }
}

// --- abuse limits (issue 8; pipeline/abuse.ts) ------------------------------------------------

/** Too many failed authentications from this client address or with this token: guessing is pointless. */
export class TooManyFailedAttempts extends GatehouseError {
  readonly code = 'TooManyFailedAttempts';
  readonly status = 429;
  constructor(override readonly retryAfterSeconds: number) {
    super(`Too many failed authentication attempts; try again in ${retryAfterSeconds} s.`);
  }
}
/** The token's configured request rate is exhausted. */
export class RateLimited extends GatehouseError {
  readonly code = 'RateLimited';
  readonly status = 429;
  constructor(override readonly retryAfterSeconds: number) {
    super(`Too many requests for this API token; try again in ${retryAfterSeconds} s.`);
  }
}

// --- HTTP hygiene (issue 8; pipeline/http-limits.ts) -------------------------------------------

export class PayloadTooLarge extends GatehouseError {
  readonly code = 'PayloadTooLarge';
  readonly status = 413;
  constructor(limit: number) {
    super(`The request body is larger than this endpoint accepts (${limit} bytes).`);
  }
}
export class HeadersTooLarge extends GatehouseError {
  readonly code = 'HeadersTooLarge';
  readonly status = 431;
  constructor() {
    super('The request headers are too large or too many.');
  }
}

// --- the request head and body at the edge (issue 19; edge/head-checks.ts, edge/body-rate.ts) ---

/** RFC 9112 §3.2: exactly one Host header line. */
export class HostInvalid extends GatehouseError {
  readonly code = 'HostInvalid';
  readonly status = 400;
  constructor() {
    super('The request must carry exactly one Host header.');
  }
}
/** X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override: a method other than the one judged, refused rather than forwarded. */
export class MethodOverrideRefused extends GatehouseError {
  readonly code = 'MethodOverrideRefused';
  readonly status = 400;
  constructor() {
    super('Method-override headers (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) are not accepted: send the method itself.');
  }
}
/** The request body came slower than `http.bodyMinBytesPerSecond` over `http.bodyIdleTimeoutMs`. */
export class BodyTimeout extends GatehouseError {
  readonly code = 'RequestTimeout';
  readonly status = 408;
  constructor() {
    super('The request body was not received in time.');
  }
}

/**
 * A restricted API token (issue 20) asked for more than it was given: a permission it lacks, a
 * network it may not be used from, an API version past its ceiling, or a call outside the
 * permission vocabulary. `restriction` names which (`envelope:write`, `network`, `version`,
 * `unmapped`); the message says it in words and never echoes the token.
 */
export class TokenRestricted extends GatehouseError {
  readonly code = 'TokenRestricted';
  readonly status = 403;
  constructor(
    readonly restriction: string,
    message: string,
  ) {
    super(message);
  }
}
