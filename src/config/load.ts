// Reads configuration: config/default.json, then config/<env>.json, then an optional file named by
// GATEHOUSE_CONFIG, then environment variables. Reading (readEnv) is kept apart from checking (parseConfig).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema, type Config } from './schema.js';

const CONFIG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../config');

/** Environment variable → dotted config key. */
export const ENV_KEYS: Record<string, string> = {
  PORT: 'server.port',
  WORKERS: 'server.workers',
  HOST: 'server.host',
  PUBLIC_URL: 'server.publicUrl',
  DATABASE_URL: 'store.url',
  CHANGE_FEED_POLL_MS: 'store.changeFeedPollMs',
  UPSTREAM_ENVELOPE_URL: 'upstreams.envelope',
  UPSTREAM_TEMPLATE_URL: 'upstreams.template',
  UPSTREAM_FILE_URL: 'upstreams.file',
  PROXY_TIMEOUT_MS: 'proxy.timeoutMs',
  IDENTITY_SECRET: 'identity.secret',
  LOG_LEVEL: 'log.level',
  SOAP_REFUSALS: 'soap.refusals',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'observability.otlpEndpoint',
  METRICS_LISTEN: 'observability.metricsListen',
  METRICS_TOKEN: 'observability.metricsToken',
  METRICS_ORGANIZATION_LABELS: 'observability.organizationLabels',
  REDIS_URL: 'redis.url',
  REDIS_MODE: 'redis.mode',
  REDIS_KEY_PREFIX: 'redis.keyPrefix',
  REDIS_COMMAND_TIMEOUT_MS: 'redis.commandTimeoutMs',
  CACHE_STALE_MAX_MS: 'cache.staleMaxMs',
  LAST_USED_FLUSH_MS: 'lastUsed.flushIntervalMs',
  PLATFORM_SESSION_SECRET: 'settings.platformSession.secret',
  PLATFORM_SESSION_PUBLIC_KEY: 'settings.platformSession.publicKey',
  LEAKED_TOKENS_SIGNING_SECRET: 'security.leakedTokens.signingSecret',
  OAUTH_SIGNING_KEY_FILE: 'oauth.signingKeyFile',
  FORWARD_AUTH_ENABLED: 'forwardAuth.enabled',
  FORWARD_AUTH_PATH: 'forwardAuth.path',
  FORWARD_AUTH_EDGES: 'forwardAuth.edges',
  FORWARD_AUTH_EDGE_FORWARDS: 'forwardAuth.edgeForwards',
};

export class ConfigError extends Error {
  readonly code = 'ConfigInvalid';
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? merge(b, v) : v;
  }
  return out;
}

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = tree;
  for (const k of keys.slice(0, -1)) {
    if (!isTree(node[k])) node[k] = {};
    node = node[k] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function readJson(file: string): Tree {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isTree(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (e) {
    throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
  }
}

/** Collects the raw (unchecked) configuration tree from files and the environment. */
export function readEnv(env: NodeJS.ProcessEnv = process.env, overrides: Tree = {}): Tree {
  const mode = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  let tree = readJson(join(CONFIG_DIR, 'default.json'));
  const modeFile = join(CONFIG_DIR, `${mode}.json`);
  if (existsSync(modeFile)) tree = merge(tree, readJson(modeFile));
  if (env.GATEHOUSE_CONFIG) tree = merge(tree, readJson(env.GATEHOUSE_CONFIG));
  tree.env = mode;
  // UPSTREAM_URL points every upstream at one service; the per-name variables refine it.
  if (env.UPSTREAM_URL !== undefined) {
    for (const name of ['envelope', 'template', 'file']) setPath(tree, `upstreams.${name}`, env.UPSTREAM_URL);
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    if (env[name] !== undefined) setPath(tree, key, env[name]);
  }
  return merge(tree, overrides);
}

/** Checks a raw tree; every problem names its key. */
export function parseConfig(tree: Tree): Config {
  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Tree = {}): Config {
  return parseConfig(readEnv(env, overrides));
}
