// pipeline/: the REST surface, read top to bottom:
//   normalize path → route → extract credential → shape check → resolve → policy → forward.
// Each step lives in its own module; this file only composes them and turns a refusal into the
// REST error body in one place. Nothing throws across steps for an expected outcome.
// /!\ Hot path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Records } from '../cache/records.js';
import { StoreReadFailed } from '../cache/resolver.js';
import { authenticateApiToken } from '../credentials/api-token.js';
import { authenticateBearerJwt, type AccessTokenVerifier } from '../credentials/bearer-jwt.js';
import { extractRestCredential } from '../credentials/extract-rest.js';
import { authenticateOrgToken, extractOrgToken, type PresentedOrgToken } from '../credentials/org-token.js';
import type { Principal } from '../credentials/principal.js';
import type { Logger } from '../observability/logger.js';
import type { RequestContext } from '../observability/access-log.js';
import { orgTokenRequests } from '../observability/metrics.js';
import { looksLikeJwt } from '../oauth/access-token.js';
import type { Forwarder } from '../proxy/forward.js';
import { normalizePath, type NormalizedPath } from '../proxy/normalize-path.js';
import type { RestRoute, RouteTable } from '../proxy/routes.js';
import { presentedSecret, type AbuseLimits } from './abuse.js';
import { TOKEN_EXPIRES_HEADER, tokenExpiresHeader } from '../policy/token-expiry.js';
import type { DeprecationHeaders } from './deprecation.js';
import { GatehouseError, InternalError, PathRefused, RouteNotFound, StoreUnavailable } from '../outcomes/errors.js';
import { sendRestError } from './rest-response.js';

export interface RestGatewayDeps {
  routes: RouteTable;
  records: Records;
  forwarders: Record<string, Forwarder>;
  signIdentity: (p: Principal) => string;
  logger: Logger;
  /** The credential's "last used" (a token's batched bookkeeping, a grant's throttled write): memory only on this path. */
  recordUse?: (principal: Principal, ip: string | undefined) => void;
  /** Sent on every response to an organization-token call (RFC 9745, RFC 8594). */
  orgTokenDeprecation: DeprecationHeaders;
  /** OAuth access tokens (RFC 9068 JWTs) arriving as Authorization: Bearer; absent = not accepted. */
  verifyAccessToken?: AccessTokenVerifier;
  /** Failed-authentication limits and the per-token rate (pipeline/abuse.ts). */
  abuse?: AbuseLimits;
  /** The client address (proxy/client-ip.ts); default the peer address. */
  clientIp?: (req: IncomingMessage) => string;
  /** The clock policy judges expiry by (tests control it). */
  now?: () => number;
}

/** Who presented what, so a failed authentication is counted against both. */
interface Attempt {
  ip: string;
  secret: string | undefined;
}

export function restGateway(deps: RestGatewayDeps) {
  const clientIp = deps.clientIp ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const clock = deps.now ?? (() => Date.now());
  const refuse = async (res: ServerResponse, ctx: RequestContext, err: GatehouseError, attempt?: Attempt) => {
    // Counted before the answer goes out, so the next guess already sees it
    if (attempt) await deps.abuse?.refused(err, attempt.ip, attempt.secret);
    ctx.errorCode = err.code;
    sendRestError(res, err, ctx.requestId);
  };
  const storeFailure = (ctx: RequestContext, e: unknown): GatehouseError => {
    if (e instanceof StoreReadFailed) {
      deps.logger.error('store read failed', { requestId: ctx.requestId, error: (e.cause as Error)?.message });
      return new StoreUnavailable();
    }
    deps.logger.error('unexpected error in the REST pipeline', { requestId: ctx.requestId, error: (e as Error).message });
    return new InternalError();
  };

  // Organization token (deprecated): fenced by policy/org-token.ts, every answer marked deprecated
  const orgTokenCall = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, route: RestRoute, url: string, presented: PresentedOrgToken | GatehouseError, attempt: Attempt) => {
    ctx.authKind = 'org-token';
    for (const [name, value] of Object.entries(deps.orgTokenDeprecation)) res.setHeader(name, value);
    let outcome;
    try {
      outcome = presented instanceof GatehouseError ? { result: presented } : await authenticateOrgToken(presented, route.version, deps.records);
    } catch (e) {
      outcome = { result: storeFailure(ctx, e) };
    }
    const { result, organizationId } = outcome;
    ctx.organizationId = organizationId;
    orgTokenRequests.inc({ organization_id: organizationId ?? 'unknown', outcome: result instanceof GatehouseError ? result.code : 'forwarded' });
    if (result instanceof GatehouseError) return refuse(res, ctx, result, attempt);
    const { principal, tier } = result;
    ctx.tokenId = principal.tokenId;
    ctx.userId = principal.userId;
    ctx.cacheTier = tier;
    deps.recordUse?.(principal, req.socket.remoteAddress);
    deps.forwarders[route.upstream]!(req, res, { requestId: ctx.requestId, url, identity: deps.signIdentity(principal) });
  };

  return async function handleRest(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    normalized: NormalizedPath = normalizePath(req.url ?? '/'),
  ): Promise<void> {
    ctx.surface = 'rest';
    // Normalize: what policy sees is what is forwarded
    if (!normalized.ok) return refuse(res, ctx, new PathRefused());
    const route = deps.routes(req.method ?? 'GET', normalized.path);
    ctx.path = route?.path ?? normalized.path;
    if (!route) return refuse(res, ctx, new RouteNotFound());
    ctx.route = route.resource;
    const forward = deps.forwarders[route.upstream]!;
    ctx.upstream = route.upstream;
    const url = route.path + normalized.query;

    // Public: GET /Api/v{N}/version
    if (route.isPublic) return forward(req, res, { requestId: ctx.requestId, url });

    // Abuse limits: an address or token that failed too often is refused before any look-up
    const attempt: Attempt = { ip: clientIp(req), secret: presentedSecret(req.headers) };
    const blocked = deps.abuse?.check(attempt.ip, attempt.secret);
    if (blocked) return refuse(res, ctx, blocked);

    // Extract the one credential
    const presented = extractRestCredential(req.headers);
    const orgToken = extractOrgToken(req.headers, presented);
    if (orgToken !== undefined) {
      ctx.credentialKind = 'org-token';
      return orgTokenCall(req, res, ctx, route, url, orgToken, attempt);
    }
    if (presented instanceof GatehouseError) {
      ctx.credentialKind = 'none';
      return refuse(res, ctx, presented);
    }
    // A Bearer value shaped like a JWT is an OAuth access token; user API tokens never are.
    const oauth = presented.carrier === 'bearer' && deps.verifyAccessToken !== undefined && looksLikeJwt(presented.secret);
    ctx.credentialKind = oauth ? 'oauth' : 'api-token';

    // Shape check, resolve, judge
    let outcome;
    let now = 0;
    try {
      now = clock();
      outcome = oauth
        ? await authenticateBearerJwt(presented.secret, req.method ?? 'GET', deps.verifyAccessToken!, deps.records)
        : await authenticateApiToken(presented.secret, deps.records, now);
    } catch (e) {
      return refuse(res, ctx, storeFailure(ctx, e));
    }
    if (outcome instanceof GatehouseError) return refuse(res, ctx, outcome, attempt);
    const limited = await deps.abuse?.consumeRequest(outcome.principal.tokenId);
    if (limited) return refuse(res, ctx, limited);

    // Forward with a verified identity
    const { principal, tier } = outcome;
    ctx.authKind = principal.authKind;
    ctx.tokenId = principal.tokenId;
    ctx.userId = principal.userId;
    ctx.organizationId = principal.organizationId;
    ctx.cacheTier = tier;
    deps.recordUse?.(principal, req.socket.remoteAddress);
    // Expires within 7 days: say when, on this response whatever the upstream answers
    const expires = tokenExpiresHeader(outcome.expiresAt, now);
    if (expires) res.setHeader(TOKEN_EXPIRES_HEADER, expires);
    forward(req, res, { requestId: ctx.requestId, url, identity: deps.signIdentity(principal) });
  };
}
