// A settings API client for tests: signs in like the page does, carries the cookie and CSRF token,
// checks every response against the OpenAPI document, and keeps every raw response body so a
// test can count where a secret appeared.
import request from 'supertest';
import { expect } from 'vitest';
import { hashPassword } from '../../src/settings/password.js';
import type { Store } from '../../src/store/index.js';
import { TEST_ACTOR } from './fixtures.js';
import { openApiChecker } from './openapi-check.js';

export const PASSWORD = 'a good long password';

export const openApi = openApiChecker();
/** Every response body and Set-Cookie header the settings API sent in this file. */
export const seenResponses: string[] = [];

export async function givePassword(store: Store, userId: string, password = PASSWORD): Promise<void> {
  await store.admin.setUserPasswordHash(TEST_ACTOR, userId, await hashPassword(password));
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Call {
  method: Method;
  /** The OpenAPI path template, e.g. /tokens/{id}. */
  template: string;
  path?: string;
  body?: unknown;
  cookie?: string;
  csrf?: string | null;
}

export function recordResponse(res: request.Response): void {
  seenResponses.push(res.text ?? '', JSON.stringify(res.headers['set-cookie'] ?? []));
}

export async function call(baseUrl: string, c: Call): Promise<request.Response> {
  const url = `/settings/api${c.path ?? c.template}`;
  const agent = request(baseUrl);
  const methods = { GET: agent.get, POST: agent.post, PUT: agent.put, PATCH: agent.patch, DELETE: agent.delete } as const;
  let req = methods[c.method].call(agent, url);
  if (c.cookie) req = req.set('Cookie', c.cookie);
  if (c.csrf) req = req.set('X-CSRF-Token', c.csrf);
  if (c.body !== undefined) req = req.send(c.body as object);
  const res = await req;
  recordResponse(res);
  const problem = openApi.problem(c.method, c.template, res.status, res.body, res.text ?? '');
  expect(problem, `OpenAPI: ${problem}`).toBeNull();
  return res;
}

export interface SignedIn {
  cookie: string;
  csrf: string;
  call(c: Omit<Call, 'cookie' | 'csrf'> & { csrf?: string | null }): Promise<request.Response>;
}

export function sessionCookieOf(res: request.Response): string {
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = setCookie.find((c) => c.startsWith('gatehouse_session='));
  expect(line, 'a session cookie').toBeDefined();
  return line!.split(';')[0]!;
}

export async function signIn(baseUrl: string, login: string, password = PASSWORD): Promise<SignedIn> {
  const res = await call(baseUrl, { method: 'POST', template: '/session', body: { login, password } });
  expect(res.status).toBe(200);
  const cookie = sessionCookieOf(res);
  const csrf = res.body.csrfToken as string;
  return {
    cookie,
    csrf,
    call: (c) => call(baseUrl, { ...c, cookie, csrf: c.csrf === undefined ? csrf : c.csrf }),
  };
}
