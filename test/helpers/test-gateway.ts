// Starts a real gateway in this process on an ephemeral port, in front of the real sample
// upstream (or an upstream the test provides), with its log lines captured for assertions.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { startGateway, type Gateway } from '../../src/app.js';
import { parseConfig, readEnv } from '../../src/config/load.js';
import type { Config, UpstreamName } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSampleUpstream } from '../../src/sample-upstream/server.js';
import type { Store } from '../../src/store/index.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  /** The Prometheus endpoint, on a listener of its own (config/test.json: a free loopback port). */
  metricsUrl: string;
  config: Config;
  identitySecret: string;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  store: Store;
  storeUrl: string;
  /** Config tree merged over the defaults. */
  overrides?: Record<string, unknown>;
  /** Upstream base URL for every upstream; default a fresh sample upstream. */
  upstream?: string;
}

export async function startTestGateway(opts: TestGatewayOptions): Promise<TestGateway> {
  const identitySecret = randomBytes(32).toString('base64url');
  const config = parseConfig(
    readEnv({ NODE_ENV: 'test' }, {
      server: { host: '127.0.0.1', port: 0 },
      store: { url: opts.storeUrl, changeFeedPollMs: 200 },
      identity: { secret: identitySecret },
      ...opts.overrides,
    }),
  );
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', stream });
  const sample = opts.upstream
    ? undefined
    : await startSampleUpstream({ identitySecret, issuer: config.identity.issuer, audience: config.identity.audience });
  const target = opts.upstream ?? sample!.url;
  const upstreams = { envelope: target, template: target, file: target } satisfies Record<UpstreamName, string>;
  const gateway = await startGateway({ config, store: opts.store, logger, upstreams, identitySecret });
  return {
    gateway,
    url: gateway.url,
    metricsUrl: gateway.metricsUrl,
    config,
    identitySecret,
    logs,
    async close() {
      await gateway.close();
      await sample?.close();
    },
  };
}
