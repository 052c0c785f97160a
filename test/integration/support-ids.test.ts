// Support can find the call (issue 18): on the settings API, the leaked-token endpoint and the OAuth
// routes, the support id of an error answer (SupportId; for OAuth's RFC 6749 body, the X-Request-Id
// header and a server_error's description) is the request id of that request's access-log line.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { signReport } from '../../src/security/leaked-tokens.js';
import { useGateway } from '../helpers/use-gateway.js';

const KEY = randomBytes(32).toString('hex');
const { ts, gw, sessions: { user: alice } } = useGateway({
  overrides: { security: { leakedTokens: { signingSecret: KEY, maxTokensPerReport: 10 } } },
  users: { user: { signIn: true } },
});

type Line = Record<string, unknown>;
const lines = (): Line[] => gw.logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Line);

/** The access line carrying this request id, once the response is done (the line is written on close); exactly one. */
async function accessLineOf(requestId: string): Promise<Line> {
  await expect.poll(() => lines().filter((l) => l.message === 'access' && l.requestId === requestId).length).toBe(1);
  return lines().find((l) => l.message === 'access' && l.requestId === requestId)!;
}

/** The answer's support id is that request's access-log id: the line with it has this request's method and status. */
async function expectSupportIdLogged(res: request.Response, supportId: unknown, method: string) {
  expect(supportId).toEqual(expect.any(String));
  expect(res.headers['x-request-id']).toBe(supportId);
  expect(await accessLineOf(supportId as string)).toMatchObject({ method, status: res.status, surface: 'web', errorCode: expect.any(String) });
}

describe('the settings API', () => {
  it.each([
    ['no session (401)', () => request(gw.url).get('/settings/api/tokens'), 'GET', 401, 'SessionRequired'],
    ['a body that is not JSON (400)', () => request(gw.url).post('/settings/api/session').set('Content-Type', 'application/json').send('{"login":'), 'POST', 400, 'InvalidRequest'],
    ['a body over 16 KiB (413)', () => request(gw.url).post('/settings/api/session').send({ login: 'x'.repeat(20_000), password: 'y' }), 'POST', 413, 'PayloadTooLarge'],
    ['a form body (415)', () => request(gw.url).post('/settings/api/session').type('form').send({ login: 'a', password: 'b' }), 'POST', 415, 'UnsupportedMediaType'],
    ['an unknown resource (404)', () => request(gw.url).get('/settings/api/nope').set('Cookie', alice.cookie), 'GET', 404, 'NotFound'],
    ['a missing CSRF token (403)', () => request(gw.url).post('/settings/api/tokens').set('Cookie', alice.cookie).send({ name: 'x' }), 'POST', 403, 'CsrfTokenMissing'],
  ])('%s: SupportId is the access line’s request id', async (_what, send, method, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.ErrorId).toBe(code);
    await expectSupportIdLogged(res, res.body.SupportId, method);
  });

  it('a tame X-Request-Id from the client is both (so a caller can quote its own id)', async () => {
    const res = await request(gw.url).get('/settings/api/me').set('X-Request-Id', 'caller-chosen.id-42');
    expect(res.status).toBe(401);
    expect(res.body.SupportId).toBe('caller-chosen.id-42');
    await accessLineOf('caller-chosen.id-42');
  });
});

describe('the leaked-token endpoint', () => {
  const post = (body: string, signature: string | null) => {
    const req = request(gw.url).post('/security/leaked-tokens').set('Content-Type', 'application/json');
    return (signature === null ? req : req.set('X-Gatehouse-Signature', signature)).send(body);
  };

  it.each([
    ['an unsigned report (401)', () => post('[{"token":"gtu_x"}]', null), 401, 'SignatureInvalid'],
    ['a signed report that is not JSON (400)', () => post('[{', signReport('[{', KEY)), 400, 'InvalidRequest'],
    ['a report over 1 MiB (413)', () => post(`[{"token":"${'x'.repeat(1_100_000)}"}]`, 'sha256=00'), 413, 'PayloadTooLarge'],
  ])('%s: SupportId is the access line’s request id', async (_what, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.ErrorId).toBe(code);
    await expectSupportIdLogged(res, res.body.SupportId, 'POST');
  });
});

describe('the OAuth routes', () => {
  // RFC 6749 §5.2 defines the body's members (error, error_description, error_uri); clients parse
  // exactly those. The support id travels in the X-Request-Id header, as on every other error.
  it.each([
    ['an unknown client (401 invalid_client)', () => request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'authorization_code', client_id: 'nobody', code: 'x' }), 401, 'invalid_client'],
    ['a JSON body (400 invalid_request)', () => request(gw.url).post('/oauth/token').send({ grant_type: 'refresh_token' }), 400, 'invalid_request'],
    ['a form over 16 KiB (400 invalid_request)', () => request(gw.url).post('/oauth/revoke').type('form').send({ token: 'x'.repeat(20_000) }), 400, 'invalid_request'],
    ['an introspection without a client (401 invalid_client)', () => request(gw.url).post('/oauth/introspect').type('form').send({ token: 'x' }), 401, 'invalid_client'],
  ])('%s: X-Request-Id is the access line’s request id; the body is the RFC’s', async (_what, send, status, error) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    await expectSupportIdLogged(res, res.headers['x-request-id'], 'POST');
  });

  // Last: it breaks the OAuth client table of this file's store, so the token endpoint fails inside.
  it('a server_error names the same id in its description, and the error log line carries it too', async () => {
    await sql`alter table oauth_clients rename to oauth_clients_gone`.execute(ts.store.db);
    const res = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'authorization_code', client_id: 'any', code: 'x' });
    expect(res.status).toBe(500);
    const id = res.headers['x-request-id'] as string;
    expect(res.body).toEqual({ error: 'server_error', error_description: `Internal error (support id ${id}).` });
    await expectSupportIdLogged(res, id, 'POST');
    expect(lines().find((l) => l.message === 'oauth endpoint failed')).toMatchObject({ level: 'error', requestId: id });
  });
});
