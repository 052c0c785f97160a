// observability/: Prometheus metrics (prom-client) in one registry. Label values are bounded
// vocabularies (surface, route family, status, outcome codes, tiers) — never a token, login name
// or other user data.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'gatehouse_' }); // includes event-loop lag

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequests = new Counter({
  name: 'gatehouse_http_requests_total',
  help: 'Requests answered, by surface, route family and status.',
  labelNames: ['surface', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpDuration = new Histogram({
  name: 'gatehouse_http_request_duration_seconds',
  help: 'Time from request to response end, by surface and route family.',
  labelNames: ['surface', 'route'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const authOutcomes = new Counter({
  name: 'gatehouse_auth_outcomes_total',
  help: 'Authentication outcomes by credential kind and reason (ok, missing, malformed, unknown, disabled, expired, forbidden-version, no-flag, no-permission, ...).',
  labelNames: ['kind', 'reason'] as const,
  registers: [metricsRegistry],
});

export const cacheLookups = new Counter({
  name: 'gatehouse_cache_lookups_total',
  help: 'Credential resolutions by the deepest tier that answered (l1, l2, store).',
  labelNames: ['tier'] as const,
  registers: [metricsRegistry],
});

export const storeDuration = new Histogram({
  name: 'gatehouse_store_query_duration_seconds',
  help: 'Store read latency by operation.',
  labelNames: ['operation'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const storeErrors = new Counter({
  name: 'gatehouse_store_errors_total',
  help: 'Failed store reads by operation.',
  labelNames: ['operation'] as const,
  registers: [metricsRegistry],
});

export const upstreamDuration = new Histogram({
  name: 'gatehouse_upstream_response_seconds',
  help: 'Time to the upstream response headers, by upstream.',
  labelNames: ['upstream'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const upstreamErrors = new Counter({
  name: 'gatehouse_upstream_errors_total',
  help: 'Upstream failures by upstream and kind (unavailable, timeout).',
  labelNames: ['upstream', 'kind'] as const,
  registers: [metricsRegistry],
});

/**
 * Calls made with an organization API token (deprecated), per outcome (`forwarded` or the
 * refusal's error code). With `observability.organizationLabels` on, per organization too, so
 * operators can find who still depends on them (calls refused before the token's organization is
 * known count under organization_id="unknown"); off (the default), `organization_id` is empty,
 * which Prometheus reads as no label at all: no organization id reaches a metric.
 */
export const orgTokenRequests = new Counter({
  name: 'gatehouse_org_token_requests_total',
  help: 'Requests made with an organization API token, by outcome (and organization id, when observability.organizationLabels is on).',
  labelNames: ['organization_id', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** OAuth token endpoint outcomes: `issued` per grant type, or the RFC 6749 error code. */
export const oauthTokenRequests = new Counter({
  name: 'gatehouse_oauth_token_requests_total',
  help: 'OAuth token endpoint requests, by grant type and outcome (issued or the RFC 6749 error).',
  labelNames: ['grant_type', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** OAuth grants revoked, by why: a user, a client, a replayed code, a reused refresh token. */
export const oauthGrantsRevoked = new Counter({
  name: 'gatehouse_oauth_grants_revoked_total',
  help: 'OAuth grants revoked at the token endpoint because a code or refresh token was replayed.',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Error code → the reason label operators read. */
const REASONS: Record<string, string> = {
  CredentialMissing: 'missing',
  CredentialMalformed: 'malformed',
  CredentialConflict: 'conflict',
  CredentialUnknown: 'unknown',
  CredentialDisabled: 'disabled',
  CredentialExpired: 'expired',
  UserDisabled: 'user-disabled',
  PermissionDenied: 'no-permission',
  VersionNotAllowed: 'forbidden-version',
  FeatureFlagMissing: 'no-flag',
  OrgTokenLoginMissing: 'login-missing',
  ActingUserNotAllowed: 'unknown-user',
  ActingUserDisabled: 'user-disabled',
  StoreUnavailable: 'store-unavailable',
  AccessTokenInvalid: 'invalid-access-token',
  ScopeInsufficient: 'insufficient-scope',
  TokenRestricted: 'token-restricted',
  TooManyFailedAttempts: 'too-many-failures',
  RateLimited: 'rate-limited',
};

export const abuseRefusals = new Counter({
  name: 'gatehouse_abuse_refusals_total',
  help: 'Requests refused with 429 by the abuse limits, by limit (ip, token-hint, token-rate).',
  labelNames: ['limit'] as const,
  registers: [metricsRegistry],
});

export function authReason(errorCode: string | undefined): string | undefined {
  if (errorCode === undefined) return 'ok';
  return REASONS[errorCode];
}

/** Request bodies cut for coming too slowly (edge/body-rate.ts), by surface (rest, soap, forward-auth, web). */
export const bodyTimeouts = new Counter({
  name: 'gatehouse_request_body_timeouts_total',
  help: 'Requests answered 408 (or cut) because their body came slower than http.bodyMinBytesPerSecond over http.bodyIdleTimeoutMs, by surface.',
  labelNames: ['surface'] as const,
  registers: [metricsRegistry],
});

/** Connections closed at accept (edge/connection-cap.ts): `per-address-limit` = over http.maxConnectionsPerIp. */
export const connectionsRefused = new Counter({
  name: 'gatehouse_connections_refused_total',
  help: 'Connections closed as soon as they were accepted, by reason (per-address-limit).',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const leakedTokenReports = new Counter({
  name: 'gatehouse_leaked_tokens_total',
  help: 'Token strings reported as found in public code, by outcome (revoked, already-revoked, unknown, malformed).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});
