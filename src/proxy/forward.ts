// proxy/: forwards a judged request upstream over keep-alive connections (undici's Pool, through
// its low-level `dispatch`), streaming the body both ways with backpressure. One forwarder per
// upstream serves both surfaces: REST sends the client's body as it comes; SOAP sends the edited
// preamble it has already read, then the untouched rest.
// It owns the header hygiene: credential headers, hop-by-hop headers and any client-sent
// X-Gatehouse-* or X-Forwarded-* are removed before the gateway's own are added, so a client can
// never smuggle an identity in. `Expect` is never passed on: the gateway has already answered
// 100 Continue itself (DESIGN.md §8). Upstream refused/reset → 502, too slow → 504.
// Why undici rather than node:http's client (or http-proxy-middleware over it): on the L1-hit
// benchmark a bare node:http pass-through reached 0.20–0.29× DIRECT, the same with undici 0.42×
// (test/bench/README.md); the forwarder is most of a gateway's per-request cost.
// /!\ Hot path.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, errors, type Dispatcher } from 'undici';
import { CREDENTIAL_HEADERS } from '../credentials/extract-rest.js';
import { upstreamDuration, upstreamErrors } from '../observability/metrics.js';
import { PayloadTooLarge, UpstreamTimeout, UpstreamUnavailable, type GatehouseError } from '../outcomes/errors.js';

export interface ForwardOptions {
  /** The upstream's name in config: a metric label. */
  name: string;
  target: string;
  timeoutMs: number;
  maxSockets: number;
  /** How an upstream failure is answered when the call itself names no `onError`. */
  onError: (req: IncomingMessage, res: ServerResponse, err: GatehouseError) => void;
  /** Whether the peer is a trusted proxy whose X-Forwarded-* chain is passed on (proxy/client-ip.ts). */
  trustForwarded?: (req: IncomingMessage) => boolean;
  /**
   * The most bytes a body without Content-Length (chunked) may bring, by request (0 = no limit).
   * A declared length over the limit is refused before forwarding (pipeline/http-limits.ts); an
   * undeclared one can only be counted as it streams: past the limit the upstream call is cut off
   * (the upstream never sees a complete request) and the client gets 413.
   */
  maxUndeclaredBodyBytes?: (req: IncomingMessage) => number;
}

export interface OutgoingIdentity {
  requestId: string;
  /** Signed identity JWT, or undefined for public calls. */
  identity?: string;
  /** The normalized path (plus query) that policy judged: exactly what the upstream receives. */
  url: string;
  /** A body the gateway has partly read itself (SOAP); absent = the client's body as it comes. */
  body?: PartlyReadBody;
  /** Answers an upstream failure for this call (instead of the forwarder's `onError`). */
  onError?: (err: GatehouseError) => void;
}

export interface PartlyReadBody {
  /** Bytes to send first (already read from the request). */
  head: Buffer;
  /** Whether the request still has body bytes to pipe after `head`. */
  more: boolean;
  /** The total length to announce, when known; otherwise chunked. */
  contentLength?: number;
}

export type Forwarder = ((req: IncomingMessage, res: ServerResponse, out: OutgoingIdentity) => void) & { close(): Promise<void> };

// RFC 9110 §7.6.1: meant for this hop only (plus `expect`, answered here, and `host`, which is the
// upstream's own). The framing headers are the client library's to set.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host'];
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Removes every header a client must not be able to send upstream: credentials, X-Gatehouse-*,
 * hop-by-hop headers (and those the client's `Connection` names), and X-Forwarded-* / Forwarded
 * unless `keepForwarded` (the peer is a trusted proxy).
 */
export function scrubRequestHeaders(headers: IncomingHttpHeaders, keepForwarded = false): void {
  const connection = headers.connection;
  if (connection) {
    for (const named of connection.toLowerCase().split(',')) {
      const n = named.trim();
      // never let `Connection: content-length` strip the framing itself
      if (n && n !== 'content-length') delete headers[n];
    }
  }
  for (const name of CREDENTIAL_HEADERS) delete headers[name];
  for (const name of HOP_BY_HOP) delete headers[name];
  for (const name in headers) {
    if (name.startsWith('x-gatehouse-')) delete headers[name];
    else if (!keepForwarded && (name.startsWith('x-forwarded-') || name === 'forwarded')) delete headers[name];
  }
}

/** The headers the upstream receives: the client's, scrubbed, plus the gateway's own. */
function upstreamHeaders(req: IncomingMessage, out: OutgoingIdentity, trusted: boolean): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...req.headers };
  scrubRequestHeaders(headers, trusted);
  if (out.identity) headers['x-gatehouse-identity'] = out.identity;
  headers['x-request-id'] = out.requestId;
  // A trusted proxy's chain is extended; anyone else's was dropped above
  const chain = trusted ? headers['x-forwarded-for'] : undefined;
  headers['x-forwarded-for'] = (chain ? `${chain}, ` : '') + (req.socket.remoteAddress ?? '');
  if (!(trusted && headers['x-forwarded-proto'])) headers['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
  if (!(trusted && headers['x-forwarded-host']) && req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  if (out.body) {
    if (out.body.contentLength === undefined) delete headers['content-length'];
    else headers['content-length'] = String(out.body.contentLength);
  }
  return headers;
}

/** The request's own body, or null when it has none (a GET without Content-Length or chunking). */
function clientBody(req: IncomingMessage): IncomingMessage | null {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  return chunked || (length !== undefined && length !== '0') ? req : null;
}

/**
 * A partly read body as one stream: the edited head is put back in front of what the request has
 * not delivered yet (Readable#unshift), so the whole body streams as the request itself does: no
 * extra stream or iterator per chunk (measured on the 50 MB SOAP benchmark: an async generator
 * instead cost 0.06 of the throughput ratio).
 */
function partlyRead(req: IncomingMessage, body: PartlyReadBody): Buffer | IncomingMessage {
  if (!body.more) return body.head;
  req.unshift(body.head);
  return req;
}

/**
 * A body streamed on only up to `limit` bytes; past it the iteration throws PayloadTooLarge, which
 * undici answers by aborting the upstream request. The request stream is not destroyed when the
 * iteration stops, so the 413 can still be written on its connection.
 */
async function* capped(body: Readable, limit: number): AsyncGenerator<Buffer> {
  let sent = 0;
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    sent += chunk.length;
    if (sent > limit) throw new PayloadTooLarge(limit);
    yield chunk;
  }
}

const isTimeout = (e: unknown) => e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError;

export function createForwarder(opts: ForwardOptions): Forwarder {
  const target = new URL(opts.target);
  const basePath = target.pathname.replace(/\/$/, '');
  const pool = new Pool(target.origin, {
    connections: opts.maxSockets,
    pipelining: 1,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 4_000,
  });

  const forward = (req: IncomingMessage, res: ServerResponse, out: OutgoingIdentity) => {
    const trusted = opts.trustForwarded?.(req) ?? false;
    const fail = (err: GatehouseError) => (out.onError ? out.onError(err) : opts.onError(req, res, err));
    res.setHeader('X-Request-Id', out.requestId);
    const started = performance.now();
    let controller: Dispatcher.DispatchController | undefined;
    // The client went away: stop the upstream call too.
    res.once('close', () => {
      if (!res.writableFinished) controller?.abort(new Error('client went away'));
    });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (res.destroyed) c.abort(new Error('client went away'));
      },
      onResponseStart(c, statusCode, headers) {
        if (statusCode < 200) return; // 1xx: informational, not ours to relay
        // The gateway has answered already (a body that came too slowly: edge/body-rate.ts)
        if (res.headersSent) return c.abort(new Error('answered already'));
        upstreamDuration.observe({ upstream: opts.name }, (performance.now() - started) / 1000);
        const back: OutgoingHttpHeaders = {};
        for (const name in headers) if (!HOP_BY_HOP_RESPONSE.has(name)) back[name] = headers[name];
        res.writeHead(statusCode, back);
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_c, err) {
        if (res.destroyed || res.writableEnded) return; // the client left first, or was answered already: nothing to answer
        if (err instanceof PayloadTooLarge) {
          // The client's own fault, not the upstream's; the rest of its body is not worth keeping the connection for
          if (!res.headersSent) res.setHeader('Connection', 'close');
          return settle(err);
        }
        const error = isTimeout(err) ? new UpstreamTimeout() : new UpstreamUnavailable();
        upstreamErrors.inc({ upstream: opts.name, kind: error instanceof UpstreamTimeout ? 'timeout' : 'unavailable' });
        settle(error);
      },
    };
    /** Answers a failed call: cuts a response already under way, else answers `error`. */
    const settle = (error: GatehouseError) => {
      // The upstream cut its answer short: cut ours too, so the client sees a failure rather than
      // taking a truncated body for a whole one.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Whatever of the request body is still coming is read and dropped, so the answer can go out
      if (!req.readableEnded) req.resume();
      fail(error);
    };
    const body = out.body ? partlyRead(req, out.body) : clientBody(req);
    const limit = body && req.headers['content-length'] === undefined ? (opts.maxUndeclaredBodyBytes?.(req) ?? 0) : 0;
    if (limit > 0 && Buffer.isBuffer(body) && body.length > limit) {
      // (SOAP: the whole message was read with the preamble)
      res.setHeader('Connection', 'close');
      return settle(new PayloadTooLarge(limit));
    }
    pool.dispatch(
      {
        path: basePath + out.url,
        method: req.method ?? 'GET',
        headers: upstreamHeaders(req, out, trusted),
        // undici sends an async iterable as a chunked body (core/request.js `isIterable`); its types omit it
        body: limit > 0 && !Buffer.isBuffer(body) ? (capped(body as Readable, limit) as unknown as Readable) : body,
      },
      handler,
    );
  };
  // Called once the server has stopped taking requests: anything still open is cut.
  return Object.assign(forward, { close: () => pool.destroy() });
}
