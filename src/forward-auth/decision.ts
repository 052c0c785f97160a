// forward-auth/: owns forward-auth mode — the decision endpoint an edge the operator already runs
// (nginx auth_request, ingress-nginx auth-url, Traefik ForwardAuth, Envoy HTTP ext_authz) asks
// before it forwards a REST call itself (docs/forward-auth.md). It runs the REST pipeline up to
// policy and stops there:
//   the original method and URI (original-request.ts) → normalize (the same refusals; with
//   `edgeForwards: original` a path that normalization would change is refused, because the edge
//   forwards it as sent) → route (the same table and version fence) → public call: allowed, no
//   identity → the one credential (the REST extraction, pipeline/rest-gateway.ts) → the
//   authenticated-call step (pipeline/authenticate-call.ts: abuse limits, shape check, resolve,
//   policy, rate, records, last used) → 200 with the signed identity, or the refusal.
// Answers: 200, no body, `X-Gatehouse-Identity` (absent on a public call), `X-Gatehouse-Uri` (the
// judged path and query: what the edge must forward with `edgeForwards: judged`),
// `X-Gatehouse-Upstream` (the route's upstream name), `X-Request-Id`, and what the step sets
// (`X-Gatehouse-Token-Expires`, organization tokens' Deprecation/Sunset/Link). A refusal is the REST
// error body with its status and headers (WWW-Authenticate, Retry-After), plus the status and the
// body as headers (`X-Gatehouse-Status`, `X-Gatehouse-Error`), because nginx's auth_request keeps
// only the headers of the answer and passes on 401 and 403 alone.
// Only the edges may ask: from any other peer the path is not claimed here and the request goes on
// as if forward-auth mode were off (404 from the web side). What an edge proxies for a client
// (everything but REST, in forward-auth mode) reaches the path only if the edge lets it: the
// shipped configurations never route it; a decision URL that normalizes out of the path is
// refused rather than judged. The client address is the edge's
// X-Forwarded-For (walked over the edges and `http.trustedProxies`), else its X-Real-IP, else the
// edge itself.
// /!\ Hot path of forward-auth mode.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import type { RequestContext } from '../observability/access-log.js';
import { GatehouseError, PathRefused, RouteNotFound } from '../outcomes/errors.js';
import type { AuthenticateCall } from '../pipeline/authenticate-call.js';
import { presentRestCall } from '../pipeline/rest-gateway.js';
import { restErrorBody, sendRestError } from '../pipeline/rest-response.js';
import { clientAddress } from '../proxy/client-ip.js';
import { normalizePath } from '../proxy/normalize-path.js';
import type { RouteTable } from '../proxy/routes.js';
import { originalRequest } from './original-request.js';

export const IDENTITY = 'X-Gatehouse-Identity';
export const JUDGED_URI = 'X-Gatehouse-Uri';
export const UPSTREAM = 'X-Gatehouse-Upstream';
export const REFUSAL_STATUS = 'X-Gatehouse-Status';
export const REFUSAL_BODY = 'X-Gatehouse-Error';

export interface ForwardAuthOptions {
  /** `forwardAuth.path`: the decision endpoint; `<path>/<original path>` too. */
  path: string;
  /** `forwardAuth.edges`: who may ask, judged on the peer address. */
  edges: readonly string[];
  /** `forwardAuth.edgeForwards`: what the edge forwards once allowed. */
  edgeForwards: 'original' | 'judged';
  /** `http.trustedProxies`: proxies between the client and the edge, walked like the edge itself. */
  trustedProxies: readonly string[];
  /** The REST route table (proxy/routes.ts), the one the REST pipeline uses. */
  routes: RouteTable;
  /**
   * The authenticated-call step (pipeline/authenticate-call.ts) over the client address given:
   * the same step as REST and SOAP, told who the client behind the edge is.
   */
  authenticateWith: (clientIp: (req: IncomingMessage) => string) => AuthenticateCall;
}

export interface ForwardAuth {
  /** Whether this request is a decision request: the decision path, from an edge. */
  claims(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
  /**
   * A decision request the edge server refused before it ran (edge/head-checks.ts: a method
   * override, two Authorization values; too many headers): answered as every decision refusal is,
   * so nginx can pass it on.
   */
  refuse(res: ServerResponse, ctx: RequestContext, err: GatehouseError): void;
}

/** The client behind a trusted edge: its X-Forwarded-For walked (proxy/client-ip.ts), else X-Real-IP, else the edge. */
export function edgeClientAddress(edges: readonly string[], trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  const forwarded = clientAddress([...edges, ...trustedProxies]);
  return (req) => {
    if (req.headers['x-forwarded-for'] !== undefined) return forwarded.ip(req);
    const real = req.headers['x-real-ip'];
    if (typeof real === 'string' && isIP(real.trim())) return real.trim();
    return req.socket.remoteAddress ?? 'unknown';
  };
}

/** A header value carries Latin-1 at most: anything beyond ASCII in the body travels as a JSON escape. */
const asciiJson = (json: string) => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function forwardAuthEndpoint(opts: ForwardAuthOptions): ForwardAuth {
  const { path, routes, edgeForwards } = opts;
  const isEdge = proxyAddr.compile([...opts.edges]);
  // A connection's peer does not change: judged once per keep-alive connection, not per decision
  const edgeSockets = new WeakMap<object, boolean>();
  const authenticate = opts.authenticateWith(edgeClientAddress(opts.edges, opts.trustedProxies));

  const refuse = (res: ServerResponse, ctx: RequestContext, err: GatehouseError): void => {
    ctx.errorCode = err.code;
    if (!res.headersSent) {
      res.setHeader(REFUSAL_STATUS, String(err.status));
      res.setHeader(REFUSAL_BODY, asciiJson(restErrorBody(err, ctx.requestId)));
    }
    sendRestError(res, err, ctx.requestId);
  };

  const allow = (res: ServerResponse, ctx: RequestContext, uri: string, upstream: string, identity?: string): void => {
    const headers: Record<string, string | number> = { [JUDGED_URI]: uri, [UPSTREAM]: upstream, 'X-Request-Id': ctx.requestId, 'Cache-Control': 'no-store', 'Content-Length': 0 };
    if (identity) headers[IDENTITY] = identity;
    res.writeHead(200, headers);
    res.end();
  };

  return {
    refuse(res, ctx, err) {
      ctx.surface = 'forward-auth';
      refuse(res, ctx, err);
    },

    claims(req) {
      const url = req.url ?? '';
      if (!url.startsWith(path)) return false;
      const next = url.charCodeAt(path.length);
      // exactly the path, the path and a query, or the path and an original path under it
      if (!(Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f) /* ? */) return false;
      const socket = req.socket;
      let edge = edgeSockets.get(socket);
      if (edge === undefined) {
        edge = isEdge(socket.remoteAddress ?? '', 0);
        edgeSockets.set(socket, edge);
      }
      return edge;
    },

    async handle(req, res, ctx) {
      ctx.surface = 'forward-auth';
      // The decision URL itself must stay under the decision path once normalized: a client whose
      // edge proxies `/_gatehouse/auth/../../settings` to Gatehouse (as it would /settings) finds no
      // decision there, and neither does an original path that climbs out of Envoy's prefix.
      const own = normalizePath(req.url ?? '');
      if (!own.ok || !(own.path === path || own.path.startsWith(`${path}/`))) return refuse(res, ctx, new PathRefused());
      const original = originalRequest(req.headers, req.url ?? '', path, req.method ?? 'GET');
      if (original instanceof GatehouseError) return refuse(res, ctx, original);

      // Normalize: the same refusals as proxy mode; what is judged must be what the edge forwards
      const normalized = normalizePath(original.uri);
      if (!normalized.ok) return refuse(res, ctx, new PathRefused());
      if (edgeForwards === 'original') {
        const q = original.uri.indexOf('?');
        if ((q === -1 ? original.uri : original.uri.slice(0, q)) !== normalized.path) return refuse(res, ctx, new PathRefused());
      }
      const route = routes(original.method, normalized.path);
      ctx.path = route?.path ?? normalized.path;
      if (!route) return refuse(res, ctx, new RouteNotFound());
      ctx.route = route.resource;
      const uri = route.path + normalized.query;

      // Public: GET /Api/v{N}/version, allowed without a credential and without an identity
      if (route.isPublic) return allow(res, ctx, uri, route.upstream);

      // The one credential, found as the REST pipeline finds it; then the authenticated-call step
      const identity = await authenticate(req, res, ctx, presentRestCall(req.headers, route));
      if (identity instanceof GatehouseError) return refuse(res, ctx, identity);
      allow(res, ctx, uri, route.upstream, identity);
    },
  };
}
