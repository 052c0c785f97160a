// Wires Gatehouse together in one place (cf. atproto's AppContext.fromConfig): config + store →
// cache tiers, change feed, forwarders → one node:http server. The authenticated edge (/Api/...)
// is dispatched straight to the lean REST pipeline; Express serves everything else (health now,
// settings and OAuth later), so the hot path never pays for Express routing (DESIGN.md §8).
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { followChanges, type ChangeFollower } from './cache/change-follower.js';
import { L1Cache } from './cache/l1.js';
import { Records } from './cache/records.js';
import { TieredResolver } from './cache/resolver.js';
import type { Config, UpstreamName } from './config/schema.js';
import { logAccessOnFinish, type RequestContext } from './observability/access-log.js';
import type { Logger } from './observability/logger.js';
import { deprecationHeaders } from './pipeline/deprecation.js';
import { RouteNotFound } from './pipeline/errors.js';
import { restGateway } from './pipeline/rest-gateway.js';
import { sendRestError } from './pipeline/rest-response.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { identitySigner } from './proxy/identity.js';
import { normalizePath } from './proxy/normalize-path.js';
import { createRouteTable, isRestPath } from './proxy/routes.js';
import type { Store } from './store/index.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface Gateway {
  server: http.Server;
  l1: L1Cache;
  follower: ChangeFollower;
  url: string;
  close(): Promise<void>;
}

export interface GatewayDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Resolved upstream base URLs (the sample upstream's, when none is configured). */
  upstreams: Record<UpstreamName, string>;
  /** The identity signing key actually in use (generated when the config leaves it empty). */
  identitySecret: string;
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function healthRoutes(store: Store) {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready', store: 'ok' });
    } catch {
      res.status(503).json({ status: 'unready', store: 'unreachable' });
    }
  });
  return app;
}

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, store, logger } = deps;
  const l1 = new L1Cache({ maxEntries: config.cache.l1MaxEntries, ttlMs: config.cache.l1TtlMs, negativeTtlMs: config.cache.negativeTtlMs });
  const records = new Records(new TieredResolver(l1), store.gateway);
  const follower = await followChanges(store.gateway, l1, {
    pollMs: config.store.changeFeedPollMs,
    onError: (e) => logger.warn('change feed unreadable; cache entries expire by TTL until it returns', { error: (e as Error).message }),
    onRecover: () => logger.info('change feed readable again; L1 emptied'),
  });

  const onUpstreamError = (req: IncomingMessage, res: ServerResponse, err: import('./pipeline/errors.js').GatehouseError) => {
    const ctx = contexts.get(req);
    if (ctx) ctx.errorCode = err.code;
    sendRestError(res, err, ctx?.requestId ?? requestIdOf(req));
  };
  const forwarders = Object.fromEntries(
    Object.entries(deps.upstreams).map(([name, target]) => [
      name,
      createForwarder({ target, timeoutMs: config.proxy.timeoutMs, maxSockets: config.proxy.maxSockets, onError: onUpstreamError }),
    ]),
  ) as Record<UpstreamName, Forwarder>;

  const handleRest = restGateway({
    routes: createRouteTable(config.routes),
    records,
    forwarders,
    signIdentity: identitySigner({ ...config.identity, secret: deps.identitySecret }),
    logger,
    orgTokenDeprecation: deprecationHeaders(config.orgTokens),
  });
  const web = healthRoutes(store);
  web.use((req, res) => sendRestError(res, new RouteNotFound(), requestIdOf(req)));

  const contexts = new WeakMap<IncomingMessage, RequestContext>();
  const server = http.createServer((req, res) => {
    const ctx: RequestContext = { requestId: requestIdOf(req), startedAt: performance.now(), surface: 'other' };
    contexts.set(req, ctx);
    if (config.log.access) logAccessOnFinish(logger, req, res, ctx);
    // Dispatch on the normalized path, so `/./Api/..` or `/%41pi/..` cannot slip past the pipeline.
    const normalized = normalizePath(req.url ?? '/');
    if (!normalized.ok || isRestPath(normalized.path)) {
      void handleRest(req, res, ctx, normalized);
      return;
    }
    web(req, res);
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const { port } = server.address() as AddressInfo;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;

  return {
    server,
    l1,
    follower,
    url: `http://${host}:${port}`,
    async close() {
      follower.stop();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const f of Object.values(forwarders)) f.close();
    },
  };
}
