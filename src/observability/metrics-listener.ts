// observability/: the Prometheus endpoint on a listener of its own (`observability.metricsListen`,
// loopback by default), never on the port clients reach: what the counters say (outcomes per
// credential kind, refusal rates, upstream errors) is for operators, not for whoever can reach the
// API. Optionally behind a bearer token (`observability.metricsToken`) where the listener must be
// reachable over a network (a Kubernetes scrape of the pod address). GET (or HEAD) of the metrics
// path only; anything else 404/405; a missing or wrong token 401. Nothing here runs per API request.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsListenerOptions {
  /** `host:port` (an IPv6 host in brackets); port 0 = any free port. */
  listen: string;
  /** The path the metrics are served at. */
  path: string;
  /** A bearer token the scraper must send; empty = none. */
  token: string;
  registry: Registry;
}

export interface MetricsListener {
  /** `http://host:port<path>`: where a scraper finds the metrics. */
  url: string;
  close(): Promise<void>;
}

/** `host:port` → its parts; the host without IPv6 brackets. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[3]) > 65535) throw new Error(`not host:port: ${listen}`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function answer(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export async function startMetricsListener(opts: MetricsListenerOptions): Promise<MetricsListener> {
  const { host, port } = parseListen(opts.listen);
  const expected = opts.token ? digest(`Bearer ${opts.token}`) : undefined;
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 10_000, maxHeaderSize: 8192 }, (req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (path !== opts.path) return answer(res, 404, 'Not found.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'Method not allowed.\n', { Allow: 'GET, HEAD' });
    // Compared as digests: equal lengths, constant time
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return answer(res, 401, 'A bearer token is required.\n', { 'WWW-Authenticate': 'Bearer realm="gatehouse-metrics"' });
    }
    opts.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': opts.registry.contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => answer(res, 500, 'The metrics could not be collected.\n'),
    );
  });
  // A scraper needs one or two connections; nobody needs hundreds
  server.maxConnections = 32;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address === '::' ? '::1' : bound.address}]` : bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}${opts.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
