// The composition root (cf. atproto's AppContext.fromConfig): config + store → cache tiers, change
// feed, abuse limits, forwarders, the OAuth server → the authenticated-call step shared by the
// REST and SOAP pipelines, the Express app for everything else → the edge server (edge/server.ts),
// which gives each request its context and dispatches it. Nothing here runs per request.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ChangeFollower } from './cache/change-follower.js';
import type { L1Cache } from './cache/l1.js';
import { openCacheTiers, type CacheTiers } from './cache/tiers.js';
import type { Config, UpstreamName } from './config/schema.js';
import type { Principal } from './credentials/principal.js';
import { edgeServer } from './edge/server.js';
import { forwardAuthEndpoint } from './forward-auth/decision.js';
import { createOAuth } from './oauth/index.js';
import { healthRoutes, type Readiness } from './observability/health.js';
import { instrumentStore } from './observability/instrument-store.js';
import type { Logger } from './observability/logger.js';
import { metricsRegistry } from './observability/metrics.js';
import { startMetricsListener, type MetricsListener } from './observability/metrics-listener.js';
import { contextOf, requestIdOf } from './observability/request-context.js';
import { createTracing } from './observability/tracing.js';
import { RouteNotFound } from './outcomes/errors.js';
import { createAbuseLimits } from './pipeline/abuse.js';
import { authenticateCall } from './pipeline/authenticate-call.js';
import { deprecationHeaders } from './pipeline/deprecation.js';
import { answerUpstreamError, restGateway } from './pipeline/rest-gateway.js';
import { sendRestError } from './pipeline/rest-response.js';
import { clientAddress } from './proxy/client-ip.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { identitySigner } from './proxy/identity.js';
import { createRouteTable } from './proxy/routes.js';
import { leakedTokenRoutes } from './security/leaked-tokens.js';
import { createSignInBrake, settingsRoutes } from './settings/index.js';
import { soapGateway } from './soap/gateway.js';
import { wsdlServer, wsdlSource } from './soap/wsdl.js';
import type { Store } from './store/index.js';
import { recordLastUsed } from './store/last-used.js';
import { settingsPage } from './web/serve.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Gateway {
  server: http.Server;
  l1: L1Cache;
  follower: ChangeFollower;
  cache: CacheTiers;
  url: string;
  /** Where the Prometheus metrics are served (observability.metricsListen): never on `url`; empty when off. */
  metricsUrl: string;
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

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, store, logger } = deps;
  const readModel = instrumentStore(store.gateway);
  const cache = await openCacheTiers(config, store, logger, readModel);
  const { l1, recordReader, follower } = cache;
  const lastUsedOptions = {
    flushIntervalMs: config.lastUsed.flushIntervalMs,
    onError: (e: unknown) => logger.warn('last-used flush failed; retried next interval', { error: (e as Error).message }),
  };
  const lastUsed = recordLastUsed(store.gateway, lastUsedOptions);
  const orgTokenLastUsed = recordLastUsed({ recordTokenUse: (uses) => store.gateway.recordOrgTokenUse(uses) }, lastUsedOptions);

  // Who the client is (X-Forwarded-* believed only from trusted proxies), and the abuse limits
  const client = clientAddress(config.http.trustedProxies);
  const abuse = createAbuseLimits({ ...config.abuse, redis: cache.redis, subscriber: cache.subscriber, redisUp: () => cache.redisState() === 'up', keyPrefix: config.redis.keyPrefix });
  // Password guessing: one brake for both ways to sign in (the settings API, the OAuth consent page)
  const signInBrake = createSignInBrake({ clientIp: client.ip, redis: cache.redis, redisUp: () => cache.redisState() === 'up', keyPrefix: config.redis.keyPrefix });
  const forwarders = Object.fromEntries(
    Object.entries(deps.upstreams).map(([name, target]) => [
      name,
      createForwarder({
        name,
        target,
        timeoutMs: config.proxy.timeoutMs,
        maxSockets: config.proxy.maxSockets,
        onError: answerUpstreamError,
        trustForwarded: client.fromTrustedProxy,
        // Declared lengths are judged before the pipeline runs (edge/server.ts); a chunked body is counted as it streams
        maxUndeclaredBodyBytes: (req) => (contextOf(req)?.surface === 'soap' ? config.http.bodyLimitBytes.soap : config.http.bodyLimitBytes.rest),
      }),
    ]),
  ) as Record<UpstreamName, Forwarder>;

  // OAuth2 authorization server; its verifier checks access tokens on both surfaces.
  const oauth = createOAuth({ config, store, logger, signInBrake });
  // "Last used" of whatever credential a call was judged by
  const recordUse = (p: Principal, ip: string) => {
    if (p.authKind === 'api-token') lastUsed.record(p.tokenId, ip);
    else if (p.authKind === 'org-token') orgTokenLastUsed.record(p.tokenId, ip);
    else oauth.recordGrantUse(p.tokenId);
  };
  // The authenticated call, one step for both surfaces and every credential kind
  const authenticateDeps = {
    records: recordReader,
    verifyAccessToken: oauth.verify,
    abuse,
    clientIp: client.ip,
    recordUse,
    signIdentity: identitySigner({ ...config.identity, secret: deps.identitySecret }),
    orgTokenDeprecation: deprecationHeaders(config.orgTokens),
    organizationLabels: config.observability.organizationLabels,
    logger,
  };
  const authenticate = authenticateCall(authenticateDeps);
  const routes = createRouteTable(config.routes, config.rest.defaultUpstream);
  const handleRest = restGateway({ routes, forwarders, authenticate });
  // Forward-auth mode: the same step, asked by an edge about a call it forwards itself
  const forwardAuth = config.forwardAuth.enabled
    ? forwardAuthEndpoint({ ...config.forwardAuth, trustedProxies: config.http.trustedProxies, routes, authenticateWith: (clientIp) => authenticateCall({ ...authenticateDeps, clientIp }) })
    : undefined;
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
    // SOAP: the same forwarder, sent the edited preamble and then the rest of the message
    forward: forwarders[config.soap.upstream],
    upstream: config.soap.upstream,
    authenticate,
    serveWsdl: wsdlServer(wsdl, () => config.server.publicUrl || listenUrl),
    contract: () => wsdl.current().contract,
    refusals: config.soap.refusals,
    logger,
    allowOrgTokens: config.orgTokens.allowSoap,
  });

  // Everything but the authenticated edge: Express, routes mounted in order.
  const readiness: Readiness = { draining: false };
  const web = express();
  web.disable('x-powered-by');
  web.use(healthRoutes(store, readiness, () => cache.redisState()));
  web.use(oauth.routes());
  web.use('/settings/api', settingsRoutes({ config, store, logger, brake: signInBrake }));
  web.use('/security', leakedTokenRoutes({ store, logger, ...config.security.leakedTokens, evictionsSent: () => cache.evictionsSent() }));
  web.use(settingsPage());
  web.use((req, res) => sendRestError(res, new RouteNotFound(), contextOf(req)?.requestId ?? requestIdOf(req)));

  const tracing = createTracing({ otlpEndpoint: config.observability.otlpEndpoint, serviceName: 'gatehouse' });
  const server = edgeServer({
    http: config.http,
    soapPaths: config.soap.paths,
    logger,
    accessLog: config.log.access,
    tracing,
    readiness,
    rest: handleRest,
    soap: handleSoap,
    web,
    forwardAuth,
    // The connection cap cannot tell the clients behind these apart when a connection opens
    uncappedPeers: [...config.http.trustedProxies, ...(config.forwardAuth.enabled ? config.forwardAuth.edges : [])],
  });

  /** After the server has closed: upstream pools, last-used flushes, the OAuth purge timer, cache tiers, tracing. */
  let metrics: MetricsListener | undefined;
  const release = async () => {
    wsdl.stop();
    await metrics?.close();
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
  // Metrics on a listener of their own (loopback by default), never on the API port
  const { metricsListen, metricsPath, metricsToken } = config.observability;
  if (metricsListen && metricsPath) {
    metrics = await startMetricsListener({ listen: metricsListen, path: metricsPath, token: metricsToken, registry: metricsRegistry }).catch(async (e: unknown) => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
      throw new Error(`metrics listener ${metricsListen}: ${(e as Error).message}`);
    });
  }

  return {
    server,
    l1,
    follower,
    cache,
    url: `http://${host}:${port}`,
    metricsUrl: metrics?.url ?? '',
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
