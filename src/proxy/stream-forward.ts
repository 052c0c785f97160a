// proxy/: a small streaming forwarder on node:http for bodies the gateway has partly read itself
// (the SOAP preamble): it sends a body the caller supplies — the edited preamble, then the
// untouched rest of the request piped through — over a keep-alive Agent, and streams the answer
// back. Chosen over http-proxy-middleware's `buffer` option: that would need the preamble and the
// rest glued into one stream anyway, and http-proxy skips its `proxyReq` event (where headers are
// set) when the client sent `Expect: 100-continue` (DESIGN.md §8); here every step is explicit.
// Header hygiene is forward.ts's (scrubRequestHeaders); `Expect` is never passed on: the gateway
// has already answered 100 Continue itself (node:http does so before the request handler runs).
// Upstream refused/reset → 502, too slow → 504, through onError.
// /!\ Hot path.
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import { UpstreamTimeout, UpstreamUnavailable, type GatehouseError } from '../pipeline/errors.js';
import { scrubRequestHeaders } from './forward.js';

export interface StreamForwardOptions {
  target: string;
  timeoutMs: number;
  maxSockets: number;
  /** Whether the peer is a trusted proxy whose X-Forwarded-* chain is passed on (proxy/client-ip.ts). */
  trustForwarded?: (req: IncomingMessage) => boolean;
}

export interface StreamedRequest {
  requestId: string;
  identity?: string;
  url: string;
  /** Bytes to send first (already read from `req`), then the rest of `req` is piped. */
  head: Buffer;
  /** Whether `req` still has body bytes to pipe. */
  more: boolean;
  /** The total body length to announce, when known; otherwise chunked. */
  contentLength?: number;
  onError: (err: GatehouseError) => void;
}

export type StreamForwarder = ((req: IncomingMessage, res: ServerResponse, out: StreamedRequest) => void) & { close(): void };

// RFC 9110 §7.6.1: hop-by-hop, never forwarded (plus the framing headers this forwarder sets itself).
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'content-length', 'host'];

const WRITE_BUFFER_BYTES = 256 * 1024;

export function createStreamForwarder(opts: StreamForwardOptions): StreamForwarder {
  const target = new URL(opts.target);
  const secure = target.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const basePath = target.pathname.replace(/\/$/, '');

  const forward = (req: IncomingMessage, res: ServerResponse, out: StreamedRequest) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    const trusted = opts.trustForwarded?.(req) ?? false;
    scrubRequestHeaders(headers as IncomingMessage['headers'], trusted);
    for (const h of HOP_BY_HOP) delete headers[h];
    if (out.identity) headers['x-gatehouse-identity'] = out.identity;
    headers['x-request-id'] = out.requestId;
    // A trusted proxy's chain is extended; anyone else's was dropped above
    const chain = trusted ? headers['x-forwarded-for'] : undefined;
    headers['x-forwarded-for'] = (chain ? `${String(chain)}, ` : '') + (req.socket.remoteAddress ?? '');
    if (!(trusted && headers['x-forwarded-proto'])) headers['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
    if (!(trusted && headers['x-forwarded-host']) && req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    if (out.contentLength !== undefined) headers['content-length'] = String(out.contentLength);
    res.setHeader('X-Request-Id', out.requestId);

    let failed = false;
    let timedOut = false;
    const options: http.RequestOptions & { highWaterMark: number } = {
      agent,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: basePath + out.url,
      headers,
      timeout: opts.timeoutMs,
      // Several 64 KiB socket reads in flight instead of a pause/drain round trip per chunk
      // (the default 16 KiB is smaller than one read); still a small, fixed bound per request.
      highWaterMark: WRITE_BUFFER_BYTES,
    };
    const upstream = (secure ? https : http).request(options);
    const fail = () => {
      if (failed) return;
      failed = true;
      req.unpipe(upstream);
      req.resume();
      out.onError(timedOut ? new UpstreamTimeout() : new UpstreamUnavailable());
    };
    upstream.on('timeout', () => {
      timedOut = true;
      upstream.destroy(new Error('upstream timeout'));
    });
    upstream.on('error', fail);
    upstream.on('response', (answer) => {
      const back: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) {
        if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding' && v !== undefined) back[k] = v;
      }
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    // The client went away: stop the upstream call too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });

    upstream.write(out.head);
    if (out.more) req.pipe(upstream);
    else upstream.end();
  };
  return Object.assign(forward, { close: () => agent.destroy() });
}
