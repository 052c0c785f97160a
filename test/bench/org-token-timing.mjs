// Does an organization-token call answer as fast for an unknown login as for a login of another
// organization (issue 19 item 11)? Both are refused alike (403 ActingUserNotAllowed); a difference
// in time would tell an org-token holder which login names exist on the platform.
//
//   npm run build && node test/bench/org-token-timing.mjs [samples=200]
//
// One gateway in this process (dist/), a SQLite store in a temporary directory: an organization
// with the flag and an organization token, another organization with `samples` × 2 users. Each
// call names a login never named before (the first look-up: every record from the store), unknown
// and foreign alternating so that drift hits both alike. Measured twice: the credential unit alone
// (authenticateOrgToken over the gateway's RecordReader) and the whole call over HTTP (keep-alive,
// one connection). Then the same logins again once the negative TTL has passed but not the
// positive one (what an absent record cached for less time than a present one would tell).
// Prints the medians (and quartiles) of each, in microseconds.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SAMPLES = Number(process.argv[2] ?? 200);
const dist = (p) => import(join(ROOT, 'dist', p));

const { openStore } = await dist('store/index.js');
const { OrgTokenAdmin } = await dist('store/org-token-admin.js');
const { judgeOrgTokenManagement } = await dist('policy/org-token.js');
const { parseConfig, readEnv } = await dist('config/load.js');
const { createLogger } = await dist('observability/logger.js');
const { startSampleUpstream } = await dist('sample-upstream/server.js');
const { startGateway } = await dist('app.js');
const { authenticateOrgToken } = await dist('credentials/org-token.js');

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-timing-'));
const storeUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
const store = openStore(storeUrl);
await store.migrate();
const actor = { actor: 'bench', source: 'bench' };
await store.admin.createOrganization(actor, 'Holder');
await store.admin.createRole(actor, 'Holder', 'Integrators', ['API'], []);
await store.admin.setOrganizationFeature(actor, 'Holder', 'OrganizationApiToken', true);
await store.admin.createUser(actor, 'Holder', 'holder@holder.test', ['Integrators']);
const { secret } = await new OrgTokenAdmin(store.db, judgeOrgTokenManagement).create(actor, 'holder@holder.test', 'timing', { enabled: true });
await store.admin.createOrganization(actor, 'Elsewhere');
await store.admin.createRole(actor, 'Elsewhere', 'Integrators', ['API'], []);
const foreign = [];
for (let i = 0; i < SAMPLES * 2; i++) {
  foreign.push(`foreign-${i}@elsewhere.test`);
  await store.admin.createUser(actor, 'Elsewhere', foreign[i], ['Integrators']);
}
const unknown = Array.from({ length: SAMPLES * 2 }, (_, i) => `nobody-${i}@elsewhere.test`);

const identitySecret = 'timing-'.repeat(8);
// A negative TTL well below the positive one: the second round runs in between
const NEGATIVE_TTL_MS = 1000;
const config = parseConfig(
  readEnv({ NODE_ENV: 'test' }, {
    server: { host: '127.0.0.1', port: 0 },
    store: { url: storeUrl, changeFeedPollMs: 1000 },
    identity: { secret: identitySecret },
    cache: { l1MaxEntries: 100000, l1TtlMs: 120000, negativeTtlMs: NEGATIVE_TTL_MS, staleMaxMs: 0 },
    log: { level: 'silent', access: false },
    abuse: { failuresPerIp: 0, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 },
    observability: { metricsListen: '' },
  }),
);
const sample = await startSampleUpstream({ identitySecret, issuer: config.identity.issuer, audience: config.identity.audience });
const logger = createLogger({ level: 'silent' });
const gateway = await startGateway({ config, store, logger, upstreams: { envelope: sample.url, template: sample.url, file: sample.url }, identitySecret });
const reader = gateway.cache.recordReader;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const { port } = new URL(gateway.url);
function call(login) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: '/Api/v5/envelope/1', agent, headers: { organizationKey: secret, userLoginName: login } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 403 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
async function unit(login) {
  const started = performance.now();
  const { result } = await authenticateOrgToken({ carrier: 'organizationKey', secret, loginName: login }, 5, reader);
  const ms = performance.now() - started;
  if (result.code !== 'ActingUserNotAllowed') throw new Error(`unexpected ${result.code}`);
  return ms;
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
async function round(name, measure, unknownLogins, foreignLogins) {
  const times = { unknown: [], foreign: [] };
  for (let i = 0; i < SAMPLES; i++) {
    // alternate which goes first, so neither always follows the other
    const pair = i % 2 ? [['unknown', unknownLogins[i]], ['foreign', foreignLogins[i]]] : [['foreign', foreignLogins[i]], ['unknown', unknownLogins[i]]];
    for (const [kind, login] of pair) times[kind].push(await measure(login));
  }
  const [u, f] = [quantile(times.unknown, 0.5), quantile(times.foreign, 0.5)];
  console.log(
    `${name.padEnd(44)} unknown ${us(u)} [${us(quantile(times.unknown, 0.25))}–${us(quantile(times.unknown, 0.75))}]` +
      `  foreign ${us(f)} [${us(quantile(times.foreign, 0.25))}–${us(quantile(times.foreign, 0.75))}]  foreign − unknown ${us(f - u)}`,
  );
  return { unknown: u, foreign: f };
}

// Warm the code paths (JIT, prepared statements) on logins of their own
for (let i = 0; i < 50; i++) {
  await unit(`warm-${i}@nowhere.test`);
  await call(`warm-http-${i}@nowhere.test`);
}
console.log(`${SAMPLES} samples each; node ${process.version}`);
const results = {};
results.unitFirst = await round('credential unit, first look-up', unit, unknown.slice(0, SAMPLES), foreign.slice(0, SAMPLES));
results.httpFirst = await round('HTTP call, first look-up', call, unknown.slice(SAMPLES), foreign.slice(SAMPLES));
// Past the negative TTL, within the positive one: the same logins again
await new Promise((r) => setTimeout(r, NEGATIVE_TTL_MS + 200));
results.unitLater = await round(`credential unit, again after ${NEGATIVE_TTL_MS + 200} ms`, unit, unknown.slice(0, SAMPLES), foreign.slice(0, SAMPLES));
results.httpLater = await round(`HTTP call, again after ${NEGATIVE_TTL_MS + 200} ms`, call, unknown.slice(SAMPLES), foreign.slice(SAMPLES));

agent.destroy();
await gateway.close();
await sample.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
