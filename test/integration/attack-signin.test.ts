// Password guessing against both ways to sign in (issue 19, item 5): the settings API's
// POST /settings/api/session and the OAuth consent sign-in, POST /settings/authorize/sign-in. They
// spend the same two budgets: 30 failures per client address (any login) and 10 per login name
// (case-insensitive, from any address) per 15 minutes. Past either: 429 with Retry-After — the
// settings API's error body with its SupportId, the consent page's sign-in form again — and the
// right password is refused too until the window ends. The client address is the one
// http.trustedProxies makes it (X-Forwarded-For from a trusted proxy only); real peer addresses
// come from binding 127.0.0.x. With Redis the budgets hold across a fleet.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, readEnv } from '../../src/config/load.js';
import { SIGN_IN_FAILURES_PER_ADDRESS, SIGN_IN_FAILURES_PER_LOGIN } from '../../src/settings/attempts.js';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import { openApi, PASSWORD } from '../helpers/settings-client.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const REDIS_PREFIX = uniquePrefix('signin');
/** A gateway behind a proxy on 127.0.0.1: the defaults of `http`, the proxy trusted. */
const BEHIND_PROXY = { http: { ...parseConfig(readEnv({ NODE_ENV: 'test' }, { store: { url: 'sqlite::memory:' } })).http, trustedProxies: ['127.0.0.1'] } };
const { ts, users, startGateway } = useGateway({
  gateway: false,
  redisPrefix: REDIS_PREFIX,
  users: { victim: { password: true }, bystander: { password: true }, third: { password: true }, fourth: { password: true } },
});

// --- clients -------------------------------------------------------------------------------------

/** Connections from a loopback address of our choosing (Linux routes all of 127/8 to lo). */
const agents = new Map<string, Agent>();
const peer = (address: string): Dispatcher => {
  let a = agents.get(address);
  if (!a) agents.set(address, (a = new Agent({ localAddress: address })));
  return a;
};
afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.close()));
});

/** Where a request comes from: a real peer address (default 127.0.0.1) and, through a proxy, X-Forwarded-For. */
interface From {
  peer?: string;
  forwardedFor?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function post(g: TestGateway, path: string, body: string, contentType: string, from: From = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (from.forwardedFor) headers['x-forwarded-for'] = from.forwardedFor;
  const res = await request(`${g.url}${path}`, { method: 'POST', headers, body, dispatcher: peer(from.peer ?? '127.0.0.1') });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The settings API's sign-in; every answer checked against the OpenAPI document. */
async function apiSignIn(g: TestGateway, login: string, password: string, from?: From): Promise<Answer> {
  const res = await post(g, '/settings/api/session', JSON.stringify({ login, password }), 'application/json', from);
  const problem = openApi.problem('POST', '/session', res.status, JSON.parse(res.text), res.text);
  expect(problem, `OpenAPI: ${problem}`).toBeNull();
  return res;
}

/** The OAuth consent page's sign-in form, for a valid authorization request. */
async function consentSignIn(g: TestGateway, login: string, password: string, from?: From): Promise<Answer> {
  return post(g, '/settings/authorize/sign-in', new URLSearchParams({ query: await authorizeQuery(), login, password }).toString(), 'application/x-www-form-urlencoded', from);
}

let query: string | undefined;
async function authorizeQuery(): Promise<string> {
  if (query) return query;
  const { client } = await new OAuthStore(ts.store.db).registerClient(TEST_ACTOR, { name: 'Guessing target', redirectUris: ['http://127.0.0.1:9/cb'], public: true });
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  query = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: 'http://127.0.0.1:9/cb', scope: 'api', state: 's', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
  return query;
}

type Path = 'api' | 'consent';
const signIn = (path: Path, g: TestGateway, login: string, password: string, from?: From) => (path === 'api' ? apiSignIn : consentSignIn)(g, login, password, from);
/** Alternates the two ways to sign in. */
const pathFor = (i: number): Path => (i % 2 === 0 ? 'api' : 'consent');
const wrongPassword = (i: number) => `wrong guess number ${i}`;
const unknownLogin = () => `nobody-${randomBytes(4).toString('hex')}@example.test`;

// --- what each answer looks like -----------------------------------------------------------------

function expectFailed(res: Answer, path: Path): void {
  expect(res.status).toBe(401);
  if (path === 'api') expect(JSON.parse(res.text).ErrorId).toBe('SignInFailed');
  else expect(res.text).toContain('Wrong login name or password.');
}

function expectSignedIn(res: Answer, path: Path): void {
  expect(res.status).toBe(path === 'api' ? 200 : 303);
  expect(String(res.headers['set-cookie'])).toMatch(/^gatehouse_session=/);
}

/** 429 with Retry-After (up to the 15-minute window), no session, in the path's own answer form. */
function expectBraked(res: Answer, path: Path): void {
  expect(res.status).toBe(429);
  const wait = Number(res.headers['retry-after']);
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(900);
  expect(res.headers['set-cookie']).toBeUndefined();
  if (path === 'api') {
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ ErrorId: 'TooManyAttempts', SupportId: res.headers['x-request-id'] });
  } else {
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Too many failed sign-ins. Try again in 15 minutes.');
    expect(res.text).toContain('<form method="post" action="/settings/authorize/sign-in">');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  }
}

// --- the budgets ---------------------------------------------------------------------------------

describe('one budget per login name, over both ways to sign in', () => {
  it('10 failures split across the settings API and the consent sign-in: then 429 on both, the right password included', async () => {
    const g = await startGateway();
    const { victim, bystander } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) expectFailed(await signIn(pathFor(i), g, i % 3 ? victim.login : victim.login.toUpperCase(), wrongPassword(i)), pathFor(i));
    expectBraked(await apiSignIn(g, victim.login, PASSWORD), 'api');
    expectBraked(await consentSignIn(g, victim.login, PASSWORD), 'consent');
    // The address has failed 10 times of its 30: another login from it is not refused
    expectSignedIn(await apiSignIn(g, bystander.login, PASSWORD), 'api');
    expectSignedIn(await consentSignIn(g, bystander.login, PASSWORD), 'consent');
  });

  it('one login attacked from several addresses (real peers 127.0.0.x) is refused from every address', async () => {
    const g = await startGateway();
    const { victim } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) expectFailed(await signIn(pathFor(i), g, victim.login, wrongPassword(i), { peer: `127.0.0.${i + 2}` }), pathFor(i));
    expectBraked(await apiSignIn(g, victim.login, PASSWORD, { peer: '127.0.0.99' }), 'api');
    expectBraked(await consentSignIn(g, victim.login, PASSWORD, { peer: '127.0.0.99' }), 'consent');
  });

  it('one login attacked from several addresses through a trusted proxy (X-Forwarded-For) is refused from every address', async () => {
    const g = await startGateway({ overrides: BEHIND_PROXY });
    const { victim, bystander } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) expectFailed(await signIn(pathFor(i), g, victim.login, wrongPassword(i), { forwardedFor: `203.0.113.${i + 1}` }), pathFor(i));
    expectBraked(await apiSignIn(g, victim.login, PASSWORD, { forwardedFor: '198.51.100.1' }), 'api');
    expectBraked(await consentSignIn(g, victim.login, PASSWORD, { forwardedFor: '198.51.100.1' }), 'consent');
    expectSignedIn(await apiSignIn(g, bystander.login, PASSWORD, { forwardedFor: '203.0.113.1' }), 'api');
  });
});

describe('one budget per client address, over every login and both ways to sign in', () => {
  it('30 failures against 30 logins from one address: then 429 for any login from it, the right password included; other addresses are not affected', async () => {
    const g = await startGateway();
    const { bystander } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) expectFailed(await signIn(pathFor(i), g, unknownLogin(), wrongPassword(i)), pathFor(i));
    expectBraked(await apiSignIn(g, bystander.login, PASSWORD), 'api');
    expectBraked(await consentSignIn(g, bystander.login, PASSWORD), 'consent');
    expectSignedIn(await apiSignIn(g, bystander.login, PASSWORD, { peer: '127.0.0.2' }), 'api');
    expectSignedIn(await consentSignIn(g, bystander.login, PASSWORD, { peer: '127.0.0.2' }), 'consent');
  });

  it('through a trusted proxy the forwarded address is what is counted, not the proxy', async () => {
    const g = await startGateway({ overrides: BEHIND_PROXY });
    const { bystander } = users;
    const attacker = { forwardedFor: '203.0.113.50' };
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) expectFailed(await signIn(pathFor(i), g, unknownLogin(), wrongPassword(i), attacker), pathFor(i));
    expectBraked(await apiSignIn(g, bystander.login, PASSWORD, attacker), 'api');
    expectBraked(await consentSignIn(g, bystander.login, PASSWORD, { forwardedFor: '198.51.100.7, 203.0.113.50' }), 'consent');
    // Everyone else behind the same proxy signs in
    expectSignedIn(await apiSignIn(g, bystander.login, PASSWORD, { forwardedFor: '203.0.113.51' }), 'api');
    expectSignedIn(await consentSignIn(g, bystander.login, PASSWORD, { forwardedFor: '203.0.113.51' }), 'consent');
  });

  it('from an untrusted peer, X-Forwarded-For changes nothing: a spent address stays spent', async () => {
    const g = await startGateway();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) {
      expectFailed(await signIn(pathFor(i), g, unknownLogin(), wrongPassword(i), { forwardedFor: `203.0.113.${i + 1}` }), pathFor(i));
    }
    expectBraked(await apiSignIn(g, users.bystander.login, PASSWORD, { forwardedFor: '198.51.100.1' }), 'api');
  });
});

describe('successes', () => {
  // Decided: a success gives back its own attempt (signing in costs nothing) but resets no budget.
  // A reset of the address budget would let anyone holding one account refill it between guesses
  // at others; a reset of the login budget would hand whoever is guessing that login from
  // elsewhere a fresh budget each time its owner signs in. The owner who mistyped needs no budget
  // for the next 8 hours: the session lasts that long.
  it('do not reset the budgets: 9 failures, successes, 1 failure → the right password is refused', async () => {
    const g = await startGateway();
    const { third } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN - 1; i++) expectFailed(await signIn(pathFor(i), g, third.login, wrongPassword(i)), pathFor(i));
    expectSignedIn(await apiSignIn(g, third.login, PASSWORD), 'api');
    expectSignedIn(await consentSignIn(g, third.login, PASSWORD), 'consent');
    expectFailed(await consentSignIn(g, third.login, wrongPassword(99)), 'consent');
    expectBraked(await apiSignIn(g, third.login, PASSWORD), 'api');
  });

  it('are not counted: many successes from one address never spend its budget', async () => {
    const g = await startGateway();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS + 5; i++) expectSignedIn(await signIn(pathFor(i), g, users.bystander.login, PASSWORD), pathFor(i));
    // 35 real password checks (scrypt): seconds on a quiet machine, far more when every core is busy
  }, 120_000);
});

describe('a fleet sharing Redis', () => {
  it('counts one login and one address together on every instance', async () => {
    const redis = { url: SHARED_REDIS_URL, keyPrefix: REDIS_PREFIX };
    const [a, b] = [await startGateway({ overrides: { redis } }), await startGateway({ overrides: { redis } })];
    for (const g of [a, b]) {
      const end = Date.now() + 5000;
      while (g.gateway.cache.redisState() !== 'up') {
        if (Date.now() > end) throw new Error('redis did not come up');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const { fourth } = users;
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) expectFailed(await signIn(pathFor(i), i < 5 ? a : b, fourth.login, wrongPassword(i), { peer: `127.0.1.${i + 1}` }), pathFor(i));
    expectBraked(await apiSignIn(a, fourth.login, PASSWORD, { peer: '127.0.1.99' }), 'api');
    expectBraked(await consentSignIn(b, fourth.login, PASSWORD, { peer: '127.0.1.99' }), 'consent');
    // The address budget too: 30 failures from one address, half on each instance
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) expectFailed(await signIn(pathFor(i), i % 4 < 2 ? a : b, unknownLogin(), wrongPassword(i), { peer: '127.0.2.1' }), pathFor(i));
    expectBraked(await apiSignIn(a, users.bystander.login, PASSWORD, { peer: '127.0.2.1' }), 'api');
    expectBraked(await apiSignIn(b, users.bystander.login, PASSWORD, { peer: '127.0.2.1' }), 'api');
  });
});
