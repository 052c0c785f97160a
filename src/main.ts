// Start-up: config → store (migrated) → sample upstream if none configured → gateway → listen →
// first run (development: a demo user on an empty store) → "gatehouse listening" logged.
// Shutdown on SIGTERM/SIGINT. A bad configuration stops the process with exit code 2. With
// `server.workers` > 1 this process supervises that many workers instead (src/supervisor.ts).
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { startGateway } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import { UPSTREAM_NAMES, type Config, type UpstreamName } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { startSampleUpstream } from './sample-upstream/server.js';
import { welcomeOnEmptyStore } from './settings/first-run.js';
import { sessionStoreFor } from './settings/index.js';
import { openStore } from './store/index.js';
import { superviseWorkers, workerIndex } from './supervisor.js';

function describeStore(url: string): string {
  // Never print credentials embedded in a DATABASE_URL.
  return url.startsWith('sqlite:') ? url : url.replace(/\/\/[^@/]*@/, '//***@');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ level: config.log.level });
  // More than one worker: this process only supervises (src/supervisor.ts); each worker runs on below
  const workers = config.server.workers === 0 ? availableParallelism() : config.server.workers;
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(config, workers, logger);
  const store = openStore(config.store.url);
  const applied = await store.migrate();
  if (applied.length) logger.info('migrations applied', { migrations: applied });

  // Development without a configured key: a random one, shared with the in-process sample upstream.
  const identitySecret = config.identity.secret || randomBytes(32).toString('base64url');

  const upstreams = { ...config.upstreams } as Record<UpstreamName, string>;
  let sample: Awaited<ReturnType<typeof startSampleUpstream>> | undefined;
  if (UPSTREAM_NAMES.some((n) => !upstreams[n])) {
    sample = await startSampleUpstream({ identitySecret, issuer: config.identity.issuer, audience: config.identity.audience });
    for (const n of UPSTREAM_NAMES) upstreams[n] ||= sample.url;
    logger.info('no upstream configured: serving the sample upstream in-process', { url: sample.url });
  }

  const gateway = await startGateway({ config, store, logger, upstreams, identitySecret });
  // First run (a demo user in development): by one worker of a process; safe against other
  // instances starting at once on the same store (settings/first-run.ts), as the migrations are.
  if ((workerIndex() ?? 0) === 0) await welcomeOnEmptyStore({ config, store, sessions: sessionStoreFor(store, config.settings), logger, baseUrl: gateway.url });
  // Logged once start-up is complete (the server already answers)
  logger.info('gatehouse listening', { url: gateway.url, worker: workerIndex(), pid: process.pid, store: describeStore(config.store.url), upstreams });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal, drainDelayMs: config.shutdown.drainDelayMs, timeoutMs: config.shutdown.timeoutMs });
    await gateway.drain();
    await sample?.close();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  // A process with a broken invariant is not left half-alive: log, exit, let the supervisor restart it.
  const crash = (kind: string) => (e: unknown) => {
    logger.error(kind, { error: (e as Error)?.message, stack: (e as Error)?.stack });
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`gatehouse: failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
