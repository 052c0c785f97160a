// Abuse limits end to end: failed authentications per client address and per token hint end in
// 429 + Retry-After (REST error body; on SOAP the platform's failure form with Retry-After), a flood of garbage costs no store query, the
// counters hold across two gateways sharing Redis, and no secret reaches a log line.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';

// Gateways per test, each with its limits; once all have closed, no secret seen here is in their logs.
const { ts, users: { alice }, secrets: secretsSeen, startGateway } = useGateway({ gateway: false, users: { alice: {} }, noSecretsInLogs: true });

function gateway(abuse: Record<string, number>, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  return startGateway({ overrides: { abuse: { failuresPerIp: 0, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0, ...abuse }, ...extra } });
}

async function redisUp(g: TestGateway): Promise<void> {
  const end = Date.now() + 5000;
  while (g.gateway.cache.redisState() !== 'up') {
    if (Date.now() > end) throw new Error('redis did not come up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const get = (g: TestGateway, token: string) => request(g.url).get('/Api/v6/envelope/1').set('apiToken', token);
/** A well-formed token (right prefix and checksum) nobody holds. */
const unknownToken = () => {
  const t = mintToken('user');
  secretsSeen.push(t);
  return t;
};

describe('failed authentications per client address', () => {
  it('end in 429 with Retry-After in the REST error body, for every token from that address', async () => {
    const g = await gateway({ failuresPerIp: 5 });
    for (let i = 0; i < 5; i++) await get(g, unknownToken()).expect(401);
    const res = await get(g, unknownToken()).expect(429);
    expect(res.body).toMatchObject({ ErrorId: 'TooManyFailedAttempts', SupportId: res.headers['x-request-id'] });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Guessing is useless: even a right guess from that address is refused now
    await get(g, alice.token).expect(429);
    const metrics = await (await fetch(g.metricsUrl)).text();
    expect(metrics).toMatch(/gatehouse_abuse_refusals_total\{limit="ip"\} [1-9]/);
  });

  it('a missing credential is not a failed guess', async () => {
    const g = await gateway({ failuresPerIp: 2 });
    for (let i = 0; i < 5; i++) await request(g.url).get('/Api/v6/envelope/1').expect(401);
    await get(g, alice.token).expect(200);
  });
});

describe('failed authentications per token hint', () => {
  it('end in 429 for that hint only', async () => {
    const g = await gateway({ failuresPerToken: 3 });
    // Same first 8 and last 4 characters: one hint
    const base = unknownToken();
    const variant = (i: number) => `${base.slice(0, 8)}${String(i).padStart(2, '0')}${base.slice(10)}`;
    for (let i = 0; i < 3; i++) await get(g, variant(i)).expect(401);
    const res = await get(g, variant(7)).expect(429);
    expect(res.body.ErrorId).toBe('TooManyFailedAttempts');
    await get(g, alice.token).expect(200);
  });
});

describe('a flood of garbage tokens', () => {
  it('costs no store query when malformed, and at most the address limit when well-formed', async () => {
    const g = await gateway({ failuresPerIp: 20 });
    const spy = vi.spyOn(ts.store.gateway, 'findApiTokenByHash');
    try {
      for (let i = 0; i < 100; i++) await get(g, randomBytes(20).toString('hex')).expect((r) => expect([401, 429]).toContain(r.status));
      expect(spy).not.toHaveBeenCalled();
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await get(g, unknownToken())).status);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(20);
      expect(statuses.filter((s) => s === 429).length).toBe(100);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('shared through Redis', () => {
  it('two gateways count one client together', async () => {
    const redis = { url: SHARED_REDIS_URL, keyPrefix: uniquePrefix('abuse') };
    const a = await gateway({ failuresPerIp: 4 }, { redis });
    const b = await gateway({ failuresPerIp: 4 }, { redis });
    await redisUp(a);
    await redisUp(b);
    await get(a, unknownToken()).expect(401);
    await get(b, unknownToken()).expect(401);
    await get(a, unknownToken()).expect(401);
    await get(b, unknownToken()).expect(401);
    const res = await get(a, alice.token).expect(429);
    expect(res.body.ErrorId).toBe('TooManyFailedAttempts');
    await get(b, alice.token).expect(429);
  });

  it('a valid call reads no counter: the check is judged from the blocks announced, with no Redis command', async () => {
    const redis = { url: SHARED_REDIS_URL, keyPrefix: uniquePrefix('abuse') };
    const g = await gateway({ failuresPerIp: 4, failuresPerToken: 4 }, { redis });
    await redisUp(g);
    await get(g, alice.token).expect(200); // token, user and roles now in L1
    const client = g.gateway.cache.redis!;
    const sent = vi.spyOn(client, 'sendCommand');
    try {
      for (let i = 0; i < 20; i++) await get(g, alice.token).expect(200);
      expect(sent.mock.calls.map(([c]) => `${c.name} ${c.args.join(' ')}`).filter((c) => c.includes('abuse'))).toEqual([]);
      // A failure is still counted in Redis
      await get(g, unknownToken()).expect(401);
      expect(sent.mock.calls.some(([c]) => c.args.some((a) => String(a).includes(`${redis.keyPrefix}abuse:ip`)))).toBe(true);
    } finally {
      sent.mockRestore();
    }
  });
});

describe('on the SOAP surface', () => {
  it("failed guesses end in the operation's failed result (TooManyFailedAttempts, HTTP 200 as the platform answers) with Retry-After", async () => {
    const g = await gateway({ failuresPerIp: 3 });
    const post = (token: string) =>
      request(g.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).send(getEnvelopeByIdCall(token));
    for (let i = 0; i < 3; i++) expect((await post(unknownToken())).text).toContain('CredentialUnknown');
    const res = await post(alice.token);
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.text).toContain('&lt;baseResult&gt;failed&lt;/baseResult&gt;&lt;errorInfo&gt;&lt;error&gt;TooManyFailedAttempts&lt;/error&gt;');
    // ...and the same address is blocked on REST too: one limit per client
    await get(g, alice.token).expect(429);
  });
});

describe('the per-token request rate', () => {
  it('answers 429 RateLimited past the configured rate, then recovers', async () => {
    const g = await gateway({ tokenRequestsPerSecond: 3 });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => get(g, alice.token).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBe(3);
    const limited = await get(g, alice.token);
    expect(limited.status).toBe(429);
    expect(limited.body.ErrorId).toBe('RateLimited');
    await new Promise((r) => setTimeout(r, Number(limited.headers['retry-after']) * 1000 + 50));
    await get(g, alice.token).expect(200);
  });
});
