// pipeline/: the REST surface, read top to bottom:
//   normalize path → route → extract credential → authenticate the call (authenticate-call.ts:
//   abuse limits, shape check, resolve, policy, rate, identity) → forward.
// Each step lives in its own module; this file only composes them and turns a refusal into the
// REST error body in one place. Nothing throws across steps for an expected outcome.
// /!\ Hot path.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { extractRestCredential } from '../credentials/extract-rest.js';
import { extractOrgToken } from '../credentials/org-token.js';
import type { RequestContext } from '../observability/access-log.js';
import { contextOf, requestIdOf } from '../observability/request-context.js';
import { GatehouseError, PathRefused, RouteNotFound } from '../outcomes/errors.js';
import type { Forwarder } from '../proxy/forward.js';
import { normalizePath, type NormalizedPath } from '../proxy/normalize-path.js';
import type { RestRoute, RouteTable } from '../proxy/routes.js';
import { looksLikeJwt } from '../tokens/access-token-format.js';
import { presentedSecret } from './abuse.js';
import type { AuthenticateCall, PresentedCall } from './authenticate-call.js';
import { sendRestError } from './rest-response.js';

export interface RestGatewayDeps {
  routes: RouteTable;
  forwarders: Record<string, Forwarder>;
  /** The authenticated-call step shared with SOAP (authenticate-call.ts). */
  authenticate: AuthenticateCall;
}

const refuse = (res: ServerResponse, ctx: RequestContext, err: GatehouseError): void => {
  ctx.errorCode = err.code;
  sendRestError(res, err, ctx.requestId);
};

/** The forwarders' `onError` on REST: an upstream that refused, reset or was slow, in the REST error body. */
export function answerUpstreamError(req: IncomingMessage, res: ServerResponse, err: GatehouseError): void {
  const ctx = contextOf(req);
  if (ctx) ctx.errorCode = err.code;
  sendRestError(res, err, ctx?.requestId ?? requestIdOf(req));
}

/**
 * The one credential of a REST call: an organization token (organizationKey, or a gto_ token with
 * userLoginName), else the apiToken / Bearer one; a Bearer value shaped like a JWT is an OAuth
 * access token (user API tokens never are). Also what forward-auth mode judges (forward-auth/), for
 * the edge's original call: its route tells the version and what the call needs.
 */
export function presentRestCall(headers: IncomingHttpHeaders, route: Pick<RestRoute, 'version' | 'need'>): PresentedCall {
  const { version, need } = route;
  const presented = extractRestCredential(headers);
  const orgToken = extractOrgToken(headers, presented);
  const hint = presentedSecret(headers);
  return orgToken !== undefined
    ? { kind: 'org-token', token: orgToken, hint, version, need }
    : presented instanceof GatehouseError
      ? { kind: 'none', token: presented, hint, version, need }
      : presented.carrier === 'bearer' && looksLikeJwt(presented.secret)
        ? { kind: 'oauth', token: presented.secret, hint, version, need }
        : { kind: 'api-token', token: presented.secret, loginName: undefined, hint, version, need };
}

export function restGateway(deps: RestGatewayDeps) {
  const { authenticate } = deps;
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

    // Extract the one credential
    const call = presentRestCall(req.headers, route);

    // Abuse limits, shape check, resolve, judge, rate, context, last used: one step for every surface
    const identity = await authenticate(req, res, ctx, call);
    if (identity instanceof GatehouseError) return refuse(res, ctx, identity);

    // Forward with a verified identity
    forward(req, res, { requestId: ctx.requestId, url, identity });
  };
}
