// edge/: the listening server's front door, before any surface runs. Every request gets its
// context (request id, W3C trace id, access line, span); HTTP hygiene is judged (too many header
// lines → 431, a declared body over the route family's limit → 413; node:http's own refusals in
// pipeline/http-limits.ts; a head no surface may see, edge/head-checks.ts); a body still coming is
// watched for its pace (edge/body-rate.ts) and connections are capped per address
// (edge/connection-cap.ts); `Expect: 100-continue` is answered deliberately; and the request is
// dispatched on its normalized path — `/Api/...` to the REST pipeline, the SOAP paths to the SOAP
// pipeline, everything else (health, settings, OAuth) to Express — so the authenticated
// path never pays for Express routing (DESIGN.md §8). While draining, keep-alive clients are told
// to reconnect (to another instance).
// /!\ Hot path.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import { onResponseDone, type RequestContext } from '../observability/access-log.js';
import type { Readiness } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import { attachContext, requestIdOf } from '../observability/request-context.js';
import type { Tracing } from '../observability/tracing.js';
import { HeadersTooLarge, PayloadTooLarge, type GatehouseError } from '../outcomes/errors.js';
import { answerClientError, declaredTooLarge, serverOptions, tooManyHeaders } from '../pipeline/http-limits.js';
import { sendRestError } from '../pipeline/rest-response.js';
import { normalizePath, type NormalizedPath } from '../proxy/normalize-path.js';
import { isRestPath } from '../proxy/routes.js';
import { sendSoapFault } from '../soap/faults.js';
import { refusedBeforeBody } from '../soap/gateway.js';
import { versionOfContentType } from '../soap/protocol.js';
import { bodyRateWatch } from './body-rate.js';
import { capConnectionsPerAddress } from './connection-cap.js';
import { headRefusal } from './head-checks.js';

// W3C Trace Context: version-traceid-parentid-flags. Forwarded untouched; its trace id is logged.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface EdgeOptions {
  /** Server options, header count and body limits (`http` in the config). */
  http: Config['http'];
  /** The SOAP endpoint paths (`soap.paths`), matched case-insensitively on the normalized path. */
  soapPaths: readonly string[];
  logger: Logger;
  /** `log.access`: one access line per request. */
  accessLog: boolean;
  /** One server span per request, when an OTLP endpoint is configured. */
  tracing: Tracing | undefined;
  /** Turned on when the instance starts draining (app.ts drain()). */
  readiness: Readiness;
  /** The REST pipeline (pipeline/rest-gateway.ts). */
  rest: (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, normalized: NormalizedPath) => Promise<void>;
  /** The SOAP pipeline (soap/gateway.ts). */
  soap: (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, path: string, query: string) => Promise<void>;
  /** Everything else: the Express app. */
  web: (req: IncomingMessage, res: ServerResponse) => void;
  /** Peers the per-address connection cap never counts (trusted proxies, forward-auth edges): default `http.trustedProxies`. */
  uncappedPeers?: readonly string[];
  /** Forward-auth mode's decision endpoint (forward-auth/), when it is on: the requests it claims go to it first. */
  forwardAuth?: {
    claims(req: IncomingMessage): boolean;
    handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
    /** A decision request refused here: answered as the edge can read it. */
    refuse(res: ServerResponse, ctx: RequestContext, err: GatehouseError): void;
  };
}

/** The node:http server every request enters by; not yet listening. */
export function edgeServer(opts: EdgeOptions): http.Server {
  const { http: limits, logger, accessLog, tracing, readiness, rest, soap, web, forwardAuth } = opts;
  const soapPaths = new Set(opts.soapPaths.map((p) => p.toLowerCase()));
  // A body slower than http.bodyMinBytesPerSecond over http.bodyIdleTimeoutMs: 408 (edge/body-rate.ts)
  const bodyRate = bodyRateWatch(limits);

  const server = http.createServer(serverOptions(limits), (req, res) => {
    // The request's context: what the access line, the metrics and every error body carry
    const ctx: RequestContext = { requestId: requestIdOf(req), startedAt: performance.now(), surface: 'web' };
    const traceparent = req.headers.traceparent;
    if (typeof traceparent === 'string') ctx.traceId = TRACEPARENT.exec(traceparent)?.[1];
    attachContext(req, ctx);
    onResponseDone(logger, accessLog, req, res, ctx);
    if (tracing) {
      const endSpan = tracing.startRequest(req, ctx);
      res.once('close', () => endSpan(res));
    }
    // While draining, tell keep-alive clients to reconnect (to another instance).
    if (readiness.draining) res.setHeader('Connection', 'close');

    // Dispatch on the normalized path, so `/./Api/..` or `/%41pi/..` cannot slip past the pipeline.
    const normalized = normalizePath(req.url ?? '/');
    const isSoap = normalized.ok && soapPaths.has(normalized.path.toLowerCase());
    const isRest = !isSoap && (!normalized.ok || isRestPath(normalized.path));
    // HTTP hygiene: too many header lines, a declared body over the route family's limit, a head
    // node:http accepted but no surface may see (edge/head-checks.ts)
    const limit = isSoap ? limits.bodyLimitBytes.soap : limits.bodyLimitBytes.rest;
    const hygiene = tooManyHeaders(req, limits.maxHeaderCount)
      ? new HeadersTooLarge()
      : (isSoap || isRest) && declaredTooLarge(req, limit)
        ? new PayloadTooLarge(limit)
        : headRefusal(req); // two Host lines, two different Authorization values, a method override
    if (hygiene) {
      ctx.errorCode = hygiene.code;
      res.setHeader('Connection', 'close'); // the body is not read
      if (forwardAuth?.claims(req)) forwardAuth.refuse(res, ctx, hygiene);
      else if (isSoap) sendSoapFault(res, versionOfContentType(req.headers['content-type']), hygiene, ctx.requestId, true);
      else sendRestError(res, hygiene, ctx.requestId);
      req.resume();
      return;
    }
    bodyRate?.track(req, res, ctx);
    if (forwardAuth?.claims(req)) void forwardAuth.handle(req, res, ctx);
    else if (isSoap) void soap(req, res, ctx, normalized.path, normalized.query);
    else if (isRest) void rest(req, res, ctx, normalized);
    else web(req, res);
  });

  // One header line more than allowed is kept, so too many can be told apart (431) from enough.
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  // A client that sends its request and then shuts its write side (FIN) is still answered, as nginx
  // does: node's default ends the socket at once, so a forwarded call's answer went nowhere. With
  // this, the answer in progress is the connection's last and the socket is closed after it.
  // (node:http's own server property, read in lib/_http_server.js socketOnEnd; @types/node omits it)
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', answerClientError);
  // At most http.maxConnectionsPerIp open connections per peer address, closed at accept past it (edge/connection-cap.ts)
  capConnectionsPerAddress(server, limits.maxConnectionsPerIp, opts.uncappedPeers ?? limits.trustedProxies);
  server.once('close', () => bodyRate?.close());
  // Expect: 100-continue (RFC 9110 §10.1.1), handled deliberately: 100 Continue is sent here
  // (a SOAP request already refused by its headers gets its Fault instead, before any upload),
  // and the SOAP forwarder never passes Expect upstream (DESIGN.md §8).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const n = normalizePath(req.url ?? '/');
    if (!(n.ok && soapPaths.has(n.path.toLowerCase()) && refusedBeforeBody(req))) res.writeContinue();
    server.emit('request', req, res);
  });
  return server;
}
