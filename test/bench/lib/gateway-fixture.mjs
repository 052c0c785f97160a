// A gateway to measure, for profile.mjs and ab.mjs: a SQLite store with one organization, one
// user and its tokens, an OAuth signing key (production mode wants one from a file), and
// `dist/main.js` (or another build's) started on CPU 1 with a config file of the caller's.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './processes.mjs';

/**
 * The restrictions (issue 20) of the bench's restricted token: what its calls need (GET
 * envelope/123 reads an envelope, POST envelope/send writes one; write implies read) and more, from
 * loopback among other networks, up to v6. run.mjs's L1 RESTRICTED row and PROFILE_RESTRICTED.
 */
export const BENCH_RESTRICTIONS = {
  permissions: ['envelope:write', 'template:write', 'draft:read'],
  networks: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '192.168.0.0/16'],
  maxVersion: 6,
};

/**
 * `sqlite:<dir>/gatehouse.db`, migrated, with a user whose role grants API access: `hot`, its one
 * token, `restricted`, a token of the same user with BENCH_RESTRICTIONS, and `many`, `manyCount`
 * more (round-robin over more tokens than L1 holds misses L1).
 */
export async function seedStore(root, dir, manyCount = 0, build = join(root, 'dist')) {
  const dbUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  // seeded by the build that will serve it: an older build refuses a schema with newer migrations
  const { openStore } = await import(join(build, 'store/index.js'));
  const store = openStore(dbUrl);
  await store.migrate();
  const actor = { actor: 'bench' };
  await store.admin.createOrganization(actor, 'Bench');
  await store.admin.createRole(actor, 'Bench', 'Integrators', ['API'], []);
  await store.admin.createUser(actor, 'Bench', 'p@bench.test', ['Integrators']);
  const hot = (await store.admin.createApiToken(actor, 'p@bench.test', 'hot', { enabled: true })).secret;
  const restricted = (await store.admin.createApiToken(actor, 'p@bench.test', 'restricted', { enabled: true, restrictions: BENCH_RESTRICTIONS })).secret;
  const many = [];
  for (let i = 0; i < manyCount; i++) many.push((await store.admin.createApiToken(actor, 'p@bench.test', `many-${i}`, { enabled: true })).secret);
  await store.close();
  return { dbUrl, hot, restricted, many };
}

/** The metrics listener of the gateway at `url` (startGateway puts it 10000 ports above the API port: several run at once). */
export const metricsUrlOf = (url) => {
  const u = new URL(url);
  return `http://${u.hostname}:${Number(u.port) + 10000}/metrics`;
};

/** Starts `<build>/main.js` on CPU 1 against `upstream`, with `config` (the OAuth key added) as its config file. */
export async function startGateway({ name, build, dir, port, dbUrl, upstream, config = {}, nodeArgs = [] }) {
  const keyFile = join(dir, `${name}-oauth.pem`);
  writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const configFile = join(dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ ...config, oauth: { signingKeyFile: keyFile } }));
  return startServer(name, process.execPath, [...nodeArgs, join(build, 'main.js')], {
    // production mode wants the public URL (the WSDL's soap:address): the one it listens on
    PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, DATABASE_URL: dbUrl, UPSTREAM_URL: upstream,
    IDENTITY_SECRET: 'bench-'.repeat(8), GATEHOUSE_CONFIG: configFile, NODE_ENV: 'production', LOG_LEVEL: 'info',
    // metrics have a listener of their own (loopback 9464 by default): one port each
    METRICS_LISTEN: new URL(metricsUrlOf(`http://127.0.0.1:${port}`)).host,
  });
}

/** An L1 too small for the tokens the L2 and STORE rows are loaded with: every token look-up misses it. */
export const SMALL_L1 = { l1MaxEntries: 100, l1TtlMs: 100, negativeTtlMs: 0 };

/** The L2 row's cache: the small L1, Redis behind it. */
export const l2Config = (keyPrefix) => ({
  cache: SMALL_L1,
  redis: { url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0', keyPrefix },
});
