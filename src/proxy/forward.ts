// proxy/: forwards a judged request upstream with http-proxy-middleware over keep-alive
// connections, streaming the body both ways. It owns the header hygiene: credential headers and
// any client-sent X-Gatehouse-* or X-Forwarded-* are removed before the gateway's own are added,
// so a client can never smuggle an identity in. Upstream refused/reset → 502, too slow → 504.
// /!\ Hot path.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import { CREDENTIAL_HEADERS } from '../credentials/extract-rest.js';
import { upstreamDuration, upstreamErrors } from '../observability/metrics.js';
import { UpstreamTimeout, UpstreamUnavailable, type GatehouseError } from '../pipeline/errors.js';

export interface ForwardOptions {
  /** The upstream's name in config: a metric label. */
  name: string;
  target: string;
  timeoutMs: number;
  maxSockets: number;
  onError: (req: IncomingMessage, res: ServerResponse, err: GatehouseError) => void;
  /** Whether the peer is a trusted proxy whose X-Forwarded-* chain is passed on (proxy/client-ip.ts). */
  trustForwarded?: (req: IncomingMessage) => boolean;
}

export interface OutgoingIdentity {
  requestId: string;
  /** Signed identity JWT, or undefined for public calls. */
  identity?: string;
  /** The normalized path (plus query) that policy judged: exactly what the upstream receives. */
  url: string;
}

export type Forwarder = ((req: IncomingMessage, res: ServerResponse, out: OutgoingIdentity) => void) & { close(): void };

const timedOut = new WeakSet<IncomingMessage>();

// RFC 9110 §7.6.1: meant for this hop only. `connection` and `transfer-encoding` are the
// forwarder's own business (framing and keep-alive towards the upstream), so they are left to it.
const HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade'];

/**
 * Removes every header a client must not be able to send upstream: credentials, X-Gatehouse-*,
 * hop-by-hop headers (and those the client's `Connection` names), and X-Forwarded-* / Forwarded
 * unless `keepForwarded` (the peer is a trusted proxy).
 */
export function scrubRequestHeaders(headers: IncomingMessage['headers'], keepForwarded = false): void {
  for (const name of CREDENTIAL_HEADERS) delete headers[name];
  for (const name of HOP_BY_HOP) delete headers[name];
  const connection = headers.connection;
  if (connection) {
    for (const named of connection.toLowerCase().split(',')) {
      const n = named.trim();
      // never let `Connection: content-length` strip the framing itself
      if (n && n !== 'content-length' && n !== 'transfer-encoding' && n !== 'host') delete headers[n];
    }
  }
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-gatehouse-')) delete headers[name];
    else if (!keepForwarded && (name.startsWith('x-forwarded-') || name === 'forwarded')) delete headers[name];
  }
}

export function createForwarder(opts: ForwardOptions): Forwarder {
  const secure = opts.target.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });

  const errors: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      const started = performance.now();
      proxyReq.once('timeout', () => timedOut.add(req));
      proxyReq.once('response', () => upstreamDuration.observe({ upstream: opts.name }, (performance.now() - started) / 1000));
    });
    proxyServer.on('error', (_err, req, res) => {
      const error = timedOut.has(req) ? new UpstreamTimeout() : new UpstreamUnavailable();
      upstreamErrors.inc({ upstream: opts.name, kind: error instanceof UpstreamTimeout ? 'timeout' : 'unavailable' });
      if (res instanceof http.ServerResponse) opts.onError(req, res, error);
      else (res as Socket).destroy();
    });
    // The client went away: nothing to answer.
    proxyServer.on('econnreset', () => {});
    // The upstream cut its answer short: cut ours too, so the client sees a failure rather than
    // waiting forever for bytes that will never come (or taking a truncated body for a whole one).
    proxyServer.on('proxyRes', (proxyRes, _req, res) => {
      proxyRes.once('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
    });
  };

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: opts.target,
    changeOrigin: true,
    xfwd: true,
    agent,
    proxyTimeout: opts.timeoutMs,
    ejectPlugins: true,
    plugins: [errors],
  });

  const forward = (req: IncomingMessage, res: ServerResponse, out: OutgoingIdentity) => {
    scrubRequestHeaders(req.headers, opts.trustForwarded?.(req) ?? false);
    if (out.identity) req.headers['x-gatehouse-identity'] = out.identity;
    req.headers['x-request-id'] = out.requestId;
    req.url = out.url;
    res.setHeader('X-Request-Id', out.requestId);
    void proxy(req, res);
  };
  return Object.assign(forward, { close: () => agent.destroy() });
}
