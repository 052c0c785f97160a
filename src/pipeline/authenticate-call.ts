// pipeline/: the authenticated call — one step for every surface and every credential kind (REST:
// user API token, OAuth bearer JWT, organization token; SOAP: the same behind its carriers). A
// surface keeps only what is its own: where the credential travels (it hands over what it found,
// or the refusal of what it found) and how a refusal is rendered. Everything in between happens
// here, once, in this order:
//   abuse check: an address or token hint that failed too often is refused before any look-up
//   → shape check, resolve, judge (credentials/, policy/); a store that fails to answer is 503,
//     never 401, and is logged with the request id
//   → a restricted token's restrictions (policy/token-restrictions.ts): network, version, and the
//     permission the call needs (permissions/); OAuth scopes are judged in the same vocabulary
//   → a refusal is counted against the address and the hint (abuse.ts) before it is answered
//   → the per-token request rate
//   → the request context (the access line and the metrics): kind, token, user, organization, tier
//   → "last used", from the client address (proxy/client-ip.ts: X-Forwarded-For believed only
//     from `http.trustedProxies`)
//   → the expiry warning header → the signed identity the upstream is told.
// Organization tokens (deprecated) also carry Deprecation/Sunset on every answer and are counted
// per outcome (gatehouse_org_token_requests_total; per organization too when configured), on both surfaces.
// /!\ Hot path: one async step per call; no closure and no object per call beyond the outcome.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RecordReader } from '../cache/record-reader.js';
import { StoreReadFailed } from '../cache/resolver.js';
import { authenticateApiToken } from '../credentials/api-token.js';
import { authenticateBearerJwt } from '../credentials/bearer-jwt.js';
import { authenticateOrgToken, type PresentedOrgToken } from '../credentials/org-token.js';
import type { Authenticated, Principal } from '../credentials/principal.js';
import type { RequestContext } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import { orgTokenRequests } from '../observability/metrics.js';
import { CredentialUnknown, GatehouseError, InternalError, StoreUnavailable } from '../outcomes/errors.js';
import type { Need } from '../permissions/vocabulary.js';
import { TOKEN_EXPIRES_HEADER, tokenExpiresHeader } from '../policy/token-expiry.js';
import { judgeTokenRestrictions } from '../policy/token-restrictions.js';
import type { AccessTokenVerifier } from '../tokens/access-token-format.js';
import type { AbuseLimits } from './abuse.js';
import type { DeprecationHeaders } from './deprecation.js';

/** What a surface found where its credentials travel, told by kind; `token` is the refusal when what was found cannot be judged. */
export type PresentedCall = {
  /** The raw secret as sent, for the abuse limits' token hint (hashed there; never kept or logged). */
  hint: string | undefined;
  /** The REST API version of the normalized path, or `soap`: the organization-token fence and a token's version ceiling judge it. */
  version: number | 'soap';
  /** What the call needs in the permission vocabulary (permissions/): restricted tokens and OAuth scopes are judged by it; undefined = outside it. */
  need: Need | undefined;
} & (
  | {
      kind: 'api-token';
      token: string | GatehouseError;
      /** A login name the carrier names (WS-Security's Username), which must be the token's user; undefined = none. */
      loginName: string | undefined;
    }
  | { kind: 'oauth'; token: string }
  | { kind: 'org-token'; token: PresentedOrgToken | GatehouseError }
  /** Nothing that can be judged: no credential, two different ones, a malformed carrier. */
  | { kind: 'none'; token: GatehouseError }
);

/** The signed identity to forward with, or the refusal (already counted) for the surface to render. */
export type AuthenticateCall = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, call: PresentedCall) => Promise<string | GatehouseError>;

export interface AuthenticateCallDeps {
  records: RecordReader;
  /** OAuth access tokens (RFC 9068 JWTs): verified locally, then their grant through the records. */
  verifyAccessToken: AccessTokenVerifier;
  /** Failed-authentication limits and the per-token rate (abuse.ts), shared by every surface. */
  abuse: AbuseLimits;
  /** The client address (proxy/client-ip.ts): what the abuse limits count and "last used from" shows. */
  clientIp: (req: IncomingMessage) => string;
  /** The credential's "last used" (a token's batched bookkeeping, a grant's throttled write): memory only on this path. */
  recordUse: (principal: Principal, ip: string) => void;
  /** X-Gatehouse-Identity for a principal (proxy/identity.ts). */
  signIdentity: (principal: Principal) => string;
  /** Sent on every answer to an organization-token call (RFC 9745, RFC 8594). */
  orgTokenDeprecation: DeprecationHeaders;
  /** `observability.organizationLabels`: organization-token calls counted per organization id too (off: the label is empty). */
  organizationLabels?: boolean;
  logger: Logger;
  /** The clock expiry is judged by (tests control it). */
  now?: () => number;
}

export function authenticateCall(deps: AuthenticateCallDeps): AuthenticateCall {
  const { records, verifyAccessToken, abuse, clientIp, recordUse, signIdentity, logger } = deps;
  const clock = deps.now ?? (() => Date.now()); // looked up per call: tests fake Date
  const deprecation = Object.entries(deps.orgTokenDeprecation);

  /** A store that failed to answer is 503, never 401; anything else unexpected is a 500. Both logged with the request id. */
  const failure = (ctx: RequestContext, e: unknown): GatehouseError => {
    if (e instanceof StoreReadFailed) {
      logger.error('store read failed', { requestId: ctx.requestId, error: (e.cause as Error)?.message });
      return new StoreUnavailable();
    }
    logger.error('unexpected error while authenticating a call', { requestId: ctx.requestId, surface: ctx.surface, error: (e as Error).message });
    return new InternalError();
  };

  /** Calls made with an organization token, per outcome (and organization, `unknown` before it is known, when labels name it). */
  const byOrganization = deps.organizationLabels ?? false;
  const countOrgTokenCall = (ctx: RequestContext, outcome: string) => {
    orgTokenRequests.inc({ organization_id: byOrganization ? (ctx.organizationId ?? 'unknown') : '', outcome });
  };

  /** Counted against the address and the hint before the answer goes out, so the next guess already sees it. */
  const refused = async (ctx: RequestContext, call: PresentedCall, ip: string, err: GatehouseError): Promise<GatehouseError> => {
    if (call.kind === 'org-token') countOrgTokenCall(ctx, err.code);
    await abuse.refused(err, ip, call.hint);
    return err;
  };

  return async function authenticate(req, res, ctx, call) {
    ctx.credentialKind = call.kind;
    // Abuse limits: blocked before any look-up
    const ip = clientIp(req);
    const blocked = abuse.check(ip, call.hint);
    if (blocked) return blocked;
    // Organization token (deprecated): every answer says so
    if (call.kind === 'org-token') {
      ctx.authKind = 'org-token';
      for (const [name, value] of deprecation) res.setHeader(name, value);
    }
    if (call.token instanceof GatehouseError) return refused(ctx, call, ip, call.token);

    // Shape check, resolve, judge
    const now = clock();
    let outcome: Authenticated | GatehouseError;
    try {
      if (call.kind === 'org-token') {
        const judged = await authenticateOrgToken(call.token, call.version, records);
        ctx.organizationId = judged.organizationId; // known even when refused: the access line and the metric name it
        outcome = judged.result;
      } else if (call.kind === 'oauth') {
        outcome = await authenticateBearerJwt(call.token, call.need, verifyAccessToken, records);
      } else {
        outcome = await authenticateApiToken(call.token, records, now);
        // WS-Security: the Username must name the token's user
        const named = call.kind === 'api-token' ? call.loginName : undefined;
        if (named !== undefined && !(outcome instanceof GatehouseError) && named.toLowerCase() !== outcome.principal.loginName.toLowerCase()) {
          outcome = new CredentialUnknown();
        }
      }
    } catch (e) {
      outcome = failure(ctx, e);
    }
    if (outcome instanceof GatehouseError) return refused(ctx, call, ip, outcome);
    const { principal } = outcome;

    // A restricted token's restrictions: network, version, permissions (pure; they came with its record)
    const restricted = judgeTokenRestrictions(outcome.restrictions, call.need, call.version, ip);
    if (restricted) return refused(ctx, call, ip, restricted);

    // The per-token request rate (nothing to await when none is set)
    const limiting = abuse.consumeRequest(principal.tokenId);
    const limited = limiting && (await limiting);
    if (limited) {
      if (call.kind === 'org-token') countOrgTokenCall(ctx, limited.code);
      return limited;
    }

    // Who the call is, for the access line and the metrics; "last used" from the client address
    ctx.authKind = principal.authKind;
    ctx.tokenId = principal.tokenId;
    ctx.userId = principal.userId;
    ctx.organizationId = principal.organizationId;
    ctx.cacheTier = outcome.tier;
    recordUse(principal, ip);
    // Expires within 7 days: say when, on this answer whatever the upstream answers
    const expires = tokenExpiresHeader(outcome.expiresAt, now);
    if (expires) res.setHeader(TOKEN_EXPIRES_HEADER, expires);
    if (call.kind === 'org-token') countOrgTokenCall(ctx, 'forwarded');
    return signIdentity(principal);
  };
}
