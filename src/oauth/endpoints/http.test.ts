import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../observability/access-log.js';
import type { Logger } from '../../observability/logger.js';
import { attachContext } from '../../observability/request-context.js';
import { TooManyAttempts } from '../../settings/errors.js';
import { errorHandler } from '../../web/error-handler.js';
import { invalidClient, invalidGrant } from '../errors.js';
import { FORM, params, sendOAuthError } from './http.js';

const quiet: Logger = { log() {}, error() {}, warn() {}, info() {}, debug() {} };

const router = express.Router();
router.post('/oauth/form', FORM, (req, res) => {
  res.json(params(req));
});
router.get('/oauth/grant', () => {
  throw invalidGrant('The authorization code is not valid.');
});
router.get('/oauth/client', () => {
  throw invalidClient();
});
router.get('/oauth/brake', () => {
  throw new TooManyAttempts(900);
});
router.get('/oauth/bug', () => {
  throw new Error('internal detail');
});
router.use(errorHandler({ logger: quiet, what: 'oauth endpoint', send: sendOAuthError }));
const app = express().use(router);

let n = 0;
let server: http.Server;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const ctx: RequestContext = { requestId: `req-${++n}`, startedAt: 0, surface: 'web' };
    attachContext(req, ctx);
    app(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => {
  server.close();
});

async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const form = (body: string, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

describe('OAuth error answers (RFC 6749 §5.2)', () => {
  it('an OAuth outcome keeps its error and status; the body has only the RFC members, the id is in X-Request-Id', async () => {
    const res = await send('/oauth/grant');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'The authorization code is not valid.' });
    expect(res.headers.get('x-request-id')).toBe(`req-${n}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });

  it('invalid_client names the Basic scheme again to a client that tried it', async () => {
    expect((await send('/oauth/client')).headers.get('www-authenticate')).toBeNull();
    const tried = await send('/oauth/client', { headers: { authorization: 'Basic eDp5' } });
    expect(tried.status).toBe(401);
    expect(tried.headers.get('www-authenticate')).toBe('Basic realm="gatehouse"');
  });

  it('the sign-in brake is temporarily_unavailable with Retry-After', async () => {
    const res = await send('/oauth/brake');
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed sign-ins; wait a few minutes.' });
    expect(res.headers.get('retry-after')).toBe('900');
  });

  it('a body the parser refuses is invalid_request (400), whatever its HTTP status elsewhere', async () => {
    const res = await send('/oauth/form', form(`a=${'x'.repeat(17_000)}`));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/larger than this endpoint accepts/) });
  });

  it('a repeated parameter is invalid_request', async () => {
    const res = await send('/oauth/form', form('a=1&a=2'));
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'The parameter a is repeated.' });
  });

  it('a failure is server_error naming the support id, never the detail', async () => {
    const res = await send('/oauth/bug');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'server_error', error_description: `Internal error (support id req-${n}).` });
  });
});
