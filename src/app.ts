// Wires Gatehouse together in one place (cf. atproto's AppContext.fromConfig): config + store →
// cache tiers, change feed, forwarders → one node:http server. The authenticated edge (/Api/...)
// is dispatched straight to the lean REST pipeline; Express serves everything else (health now,
// settings and OAuth later), so the hot path never pays for Express routing (DESIGN.md §8).
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ChangeFollower } from './cache/change-follower.js';
import type { L1Cache } from './cache/l1.js';
import { openCacheTiers, type CacheTiers } from './cache/tiers.js';
import type { Config, UpstreamName } from './config/schema.js';
import { onResponseDone, type RequestContext } from './observability/access-log.js';
import { attachContext, contextOf } from './observability/request-context.js';
import { healthRoutes, type Readiness } from './observability/health.js';
import { instrumentStore } from './observability/instrument-store.js';
import { metricsRegistry } from './observability/metrics.js';
import { createTracing } from './observability/tracing.js';
import type { Logger } from './observability/logger.js';
import { deprecationHeaders } from './pipeline/deprecation.js';
import { createAbuseLimits } from './pipeline/abuse.js';
import { HeadersTooLarge, PayloadTooLarge, RouteNotFound, type GatehouseError } from './outcomes/errors.js';
import { answerClientError, declaredTooLarge, serverOptions, tooManyHeaders } from './pipeline/http-limits.js';
import { clientAddress } from './proxy/client-ip.js';
import { sendSoapFault } from './soap/faults.js';
import { versionOfContentType } from './soap/protocol.js';
import { restGateway } from './pipeline/rest-gateway.js';
import { authenticateSoapOrgToken } from './credentials/org-token.js';
import type { Principal } from './credentials/principal.js';
import { createOAuth } from './oauth/index.js';
import { settingsRoutes } from './settings/index.js';
import { leakedTokenRoutes } from './security/leaked-tokens.js';
import { settingsPage } from './web/serve.js';
import { sendRestError } from './pipeline/rest-response.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { identitySigner } from './proxy/identity.js';
import { normalizePath } from './proxy/normalize-path.js';
import { createRouteTable, isRestPath } from './proxy/routes.js';
import { refusedBeforeBody, soapGateway } from './soap/gateway.js';
import { wsdlServer, wsdlSource } from './soap/wsdl.js';
import type { Store } from './store/index.js';
import { recordLastUsed } from './store/last-used.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context: version-traceid-parentid-flags. Forwarded untouched; its trace id is logged.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface Gateway {
  server: http.Server;
  l1: L1Cache;
  follower: ChangeFollower;
  cache: CacheTiers;
  url: string;
  /**
   * Graceful stop: /readyz turns 503 at once, requests keep being served for
   * `shutdown.drainDelayMs`, then no new connections, in-flight requests get up to
   * `shutdown.timeoutMs` to finish, then everything is closed.
   */
  drain(): Promise<void>;
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

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, store, logger } = deps;
  const readModel = instrumentStore(store.gateway);
  const cache = await openCacheTiers(config, store, logger, readModel);
  const { l1, records, follower } = cache;
  const lastUsedOptions = {
    flushIntervalMs: config.lastUsed.flushIntervalMs,
    onError: (e: unknown) => logger.warn('last-used flush failed; retried next interval', { error: (e as Error).message }),
  };
  const lastUsed = recordLastUsed(store.gateway, lastUsedOptions);
  const orgTokenLastUsed = recordLastUsed({ recordTokenUse: (uses) => store.gateway.recordOrgTokenUse(uses) }, lastUsedOptions);

  const onUpstreamError = (req: IncomingMessage, res: ServerResponse, err: GatehouseError) => {
    const ctx = contextOf(req);
    if (ctx) ctx.errorCode = err.code;
    sendRestError(res, err, ctx?.requestId ?? requestIdOf(req));
  };
  // Who the client is (X-Forwarded-* believed only from trusted proxies), and the abuse limits
  const client = clientAddress(config.http.trustedProxies);
  const abuse = createAbuseLimits({ ...config.abuse, redis: cache.redis, subscriber: cache.subscriber, redisUp: () => cache.redisState() === 'up', keyPrefix: config.redis.keyPrefix });
  const forwarders = Object.fromEntries(
    Object.entries(deps.upstreams).map(([name, target]) => [
      name,
      createForwarder({
        name,
        target,
        timeoutMs: config.proxy.timeoutMs,
        maxSockets: config.proxy.maxSockets,
        onError: onUpstreamError,
        trustForwarded: client.fromTrustedProxy,
        // Declared lengths are judged before the pipeline runs (below); a chunked body is counted as it streams
        maxUndeclaredBodyBytes: (req) => (contextOf(req)?.surface === 'soap' ? config.http.bodyLimitBytes.soap : config.http.bodyLimitBytes.rest),
      }),
    ]),
  ) as Record<UpstreamName, Forwarder>;

  const signIdentity = identitySigner({ ...config.identity, secret: deps.identitySecret });
  // OAuth2 authorization server; its verifier checks access tokens at both edges.
  const oauth = createOAuth({ config, store, logger });
  // "Last used" of whatever credential a call was judged by, on both surfaces
  const recordUse = (p: Principal, ip: string | undefined) => {
    if (p.authKind === 'api-token') lastUsed.record(p.tokenId, ip);
    else if (p.authKind === 'org-token') orgTokenLastUsed.record(p.tokenId, ip);
    else oauth.recordGrantUse(p.tokenId);
  };
  const handleRest = restGateway({
    routes: createRouteTable(config.routes, config.rest.defaultUpstream),
    records,
    forwarders,
    signIdentity,
    logger,
    recordUse,
    orgTokenDeprecation: deprecationHeaders(config.orgTokens),
    verifyAccessToken: oauth.verify,
    abuse,
    clientIp: client.ip,
  });
  const soapPaths = new Set(config.soap.paths.map((p) => p.toLowerCase()));
  // The SOAP contract: the upstream's own WSDL when it publishes one, else wsdl/Api.wsdl
  const wsdl = wsdlSource({
    upstreamWsdlUrl: `${deps.upstreams[config.soap.upstream].replace(/\/$/, '')}${config.soap.paths[0]}?wsdl`,
    refreshSeconds: config.soap.wsdlRefreshSeconds,
    timeoutMs: Math.min(config.proxy.timeoutMs, 5000),
    logger,
  });
  await wsdl.start();
  let listenUrl = '';
  const handleSoap = soapGateway({
    limits: { preambleBytes: config.soap.preambleLimitBytes, maxDepth: config.soap.maxDepth, maxAttributes: config.soap.maxAttributes, maxNameLength: config.soap.maxNameLength },
    records,
    // SOAP: the same forwarder, sent the edited preamble and then the rest of the message
    forward: forwarders[config.soap.upstream],
    upstream: config.soap.upstream,
    signIdentity,
    serveWsdl: wsdlServer(wsdl, () => config.server.publicUrl || listenUrl),
    contract: () => wsdl.current().contract,
    refusals: config.soap.refusals,
    logger,
    allowOrgTokens: config.orgTokens.allowSoap,
    authenticateOrgToken: authenticateSoapOrgToken,
    verifyAccessToken: oauth.verify,
    abuse,
    clientIp: client.ip,
    recordUse,
  });

  // Everything but the authenticated edge: Express, routes mounted in order.
  const readiness: Readiness = { draining: false };
  const web = express();
  web.disable('x-powered-by');
  web.use(healthRoutes(store, readiness, () => cache.redisState()));
  if (config.observability.metricsPath) {
    web.get(config.observability.metricsPath, async (_req, res) => {
      res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
    });
  }
  web.use(oauth.routes());
  web.use('/settings/api', settingsRoutes({ config, store, logger }));
  web.use('/security', leakedTokenRoutes({ store, logger, ...config.security.leakedTokens, evictionsSent: () => cache.evictionsSent() }));
  web.use(settingsPage());
  web.use((req, res) => sendRestError(res, new RouteNotFound(), requestIdOf(req)));

  const tracing = createTracing({ otlpEndpoint: config.observability.otlpEndpoint, serviceName: 'gatehouse' });
  const server = http.createServer(serverOptions(config.http), (req, res) => {
    const ctx: RequestContext = { requestId: requestIdOf(req), startedAt: performance.now(), surface: 'web' };
    const traceparent = req.headers.traceparent;
    if (typeof traceparent === 'string') ctx.traceId = TRACEPARENT.exec(traceparent)?.[1];
    attachContext(req, ctx);
    onResponseDone(logger, config.log.access, req, res, ctx);
    if (tracing) {
      const endSpan = tracing.startRequest(req, ctx);
      res.once('close', () => endSpan(res));
    }
    // While draining, tell keep-alive clients to reconnect (to another instance).
    if (readiness.draining) res.setHeader('Connection', 'close');
    // Dispatch on the normalized path, so `/./Api/..` or `/%41pi/..` cannot slip past the pipeline.
    const normalized = normalizePath(req.url ?? '/');
    const soap = normalized.ok && soapPaths.has(normalized.path.toLowerCase());
    // HTTP hygiene: too many header lines, or a declared body over the route family's limit
    const limit = soap ? config.http.bodyLimitBytes.soap : config.http.bodyLimitBytes.rest;
    const hygiene = tooManyHeaders(req, config.http.maxHeaderCount)
      ? new HeadersTooLarge()
      : (soap || !normalized.ok || isRestPath(normalized.path)) && declaredTooLarge(req, limit)
        ? new PayloadTooLarge(limit)
        : undefined;
    if (hygiene) {
      ctx.errorCode = hygiene.code;
      res.setHeader('Connection', 'close'); // the body is not read
      if (soap) sendSoapFault(res, versionOfContentType(req.headers['content-type']), hygiene, ctx.requestId, true);
      else sendRestError(res, hygiene, ctx.requestId);
      req.resume();
      return;
    }
    if (soap) {
      void handleSoap(req, res, ctx, normalized.path, normalized.query);
      return;
    }
    if (!normalized.ok || isRestPath(normalized.path)) {
      void handleRest(req, res, ctx, normalized);
      return;
    }
    web(req, res);
  });
  // One header line more than allowed is kept, so too many can be told apart (431) from enough.
  server.maxHeadersCount = config.http.maxHeaderCount + 1;
  server.on('clientError', answerClientError);
  // Expect: 100-continue (RFC 9110 §10.1.1), handled deliberately: 100 Continue is sent here
  // (a SOAP request already refused by its headers gets its Fault instead, before any upload),
  // and the SOAP forwarder never passes Expect upstream (DESIGN.md §8).
  server.on('checkContinue', (req, res) => {
    const n = normalizePath(req.url ?? '/');
    if (!(n.ok && soapPaths.has(n.path.toLowerCase()) && refusedBeforeBody(req))) res.writeContinue();
    server.emit('request', req, res);
  });

  /** After the server has closed: upstream pools, last-used flushes, the OAuth purge timer, cache tiers, tracing. */
  const release = async () => {
    wsdl.stop();
    await Promise.all(Object.values(forwarders).map((f) => f.close()));
    await Promise.all([lastUsed.stop(), orgTokenLastUsed.stop()]);
    oauth.close();
    await cache.close();
    await tracing?.shutdown();
  };

  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const { port } = server.address() as AddressInfo;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  listenUrl = `http://${host}:${port}`;
  oauth.setListenUrl(listenUrl);

  return {
    server,
    l1,
    follower,
    cache,
    url: `http://${host}:${port}`,
    async drain() {
      readiness.draining = true;
      await sleep(config.shutdown.drainDelayMs);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), config.shutdown.timeoutMs);
      await closed;
      clearTimeout(cut);
      await release();
    },
    async close() {
      readiness.draining = true;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
    },
  };
}
