import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../observability/access-log.js';
import type { Logger, LogLevel } from '../observability/logger.js';
import { attachContext } from '../observability/request-context.js';
import { CredentialMissing } from '../outcomes/errors.js';
import { errorHandler } from './error-handler.js';

const lines: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  log: (level, message, fields) => lines.push({ level, message, fields }),
  error: (message, fields) => lines.push({ level: 'error', message, fields }),
  warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
  info: (message, fields) => lines.push({ level: 'info', message, fields }),
  debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
};

class Conflict extends Error {}

const router = express.Router();
router.post('/json', express.json({ limit: 64 }), (_req, res) => {
  res.json({ ok: true });
});
router.post('/form', express.urlencoded({ extended: false, parameterLimit: 2 }), (_req, res) => {
  res.json({ ok: true });
});
router.get('/outcome', () => {
  throw new CredentialMissing();
});
router.get('/conflict', () => {
  throw new Conflict('taken');
});
router.get('/bug', () => {
  throw new Error('secret internals');
});
router.use(errorHandler({ logger, what: 'test API', outcomeOf: (e) => (e instanceof Conflict ? new CredentialMissing() : undefined) }));
const app = express().use(router);

// As edge/server.ts does for every request: a context with the access line's request id, then Express.
const contexts: RequestContext[] = [];
let withEdge: http.Server;
let bare: http.Server;
const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

beforeAll(async () => {
  withEdge = http.createServer((req, res) => {
    const ctx: RequestContext = { requestId: `req-${contexts.length + 1}`, startedAt: 0, surface: 'web' };
    contexts.push(ctx);
    attachContext(req, ctx);
    app(req, res);
  });
  bare = http.createServer(app);
  await Promise.all([withEdge, bare].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
afterAll(() => {
  withEdge.close();
  bare.close();
});

async function send(path: string, init: RequestInit = {}, server = withEdge) {
  const res = await fetch(urlOf(server) + path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const json = (body: string, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('errorHandler', () => {
  it('answers with the request id of the access line as SupportId and X-Request-Id, and notes the code on the context', async () => {
    const res = await send('/outcome');
    const ctx = contexts.at(-1)!;
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ ErrorId: 'CredentialMissing', Message: expect.any(String), SupportId: ctx.requestId });
    expect(res.headers.get('x-request-id')).toBe(ctx.requestId);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(ctx.errorCode).toBe('CredentialMissing');
  });

  it.each([
    ['a body over the limit', '/json', json(JSON.stringify({ pad: 'x'.repeat(100) })), 413, 'PayloadTooLarge', /64 bytes/],
    ['a body that is not JSON', '/json', json('{"a":'), 400, 'InvalidRequest', /^The request body is not valid JSON\.$/],
    ['a charset it does not take', '/json', json('{}', { 'content-type': 'application/json; charset=latin-9' }), 415, 'UnsupportedMediaType', /charset/],
    ['a content encoding it does not take', '/json', json('{}', { 'content-encoding': 'br2' }), 415, 'UnsupportedMediaType', /content encoding/],
    [
      'a form with too many parameters',
      '/form',
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2&c=3' },
      413,
      'PayloadTooLarge',
      /too many parameters/,
    ],
  ])('maps body-parser errors: %s', async (_what, path, init, status, code, message) => {
    const res = await send(path, init);
    expect(res.status).toBe(status);
    expect(res.body.ErrorId).toBe(code);
    expect(res.body.Message).toMatch(message);
    expect(res.body.SupportId).toBe(contexts.at(-1)!.requestId);
  });

  it("takes the router's own mapping first", async () => {
    expect((await send('/conflict')).body.ErrorId).toBe('CredentialMissing');
  });

  it('answers anything else 500 InternalError without the detail, which goes to the error log with the same id', async () => {
    const res = await send('/bug');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ ErrorId: 'InternalError', Message: 'Internal error.', SupportId: contexts.at(-1)!.requestId });
    expect(JSON.stringify(res.body)).not.toContain('secret internals');
    const line = lines.find((l) => l.message === 'test API failed')!;
    expect(line.level).toBe('error');
    expect(line.fields).toMatchObject({ requestId: contexts.at(-1)!.requestId, error: 'secret internals' });
  });

  it('logs a refusal at debug with its code and request id', async () => {
    await send('/outcome');
    expect(lines.at(-1)).toMatchObject({ level: 'debug', message: 'test API refused', fields: { requestId: contexts.at(-1)!.requestId, code: 'CredentialMissing' } });
  });

  it('without an edge (no request context) still answers, with a fresh support id', async () => {
    const res = await send('/outcome', {}, bare);
    expect(res.body.SupportId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(res.body.SupportId);
  });
});
