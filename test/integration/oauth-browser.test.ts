// The OAuth consent page and Apps and Connections in a real browser (playwright-core driving
// Debian's Chromium, as settings-browser.test.ts): an application sends the user to
// /oauth/authorize, the user signs in and allows it on the consent page (which names the app, its
// description and scopes), the app exchanges the code and calls REST (200); the user clicks
// "Revoke access" on the settings page and the app's next call is refused (401).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { ARTIFACTS, launchChromium, type Browser } from '../helpers/chromium.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { PASSWORD } from '../helpers/settings-client.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { user } } = useGateway({ users: { user: { password: true } } });
let browser: Browser;
let page: Page;
let app: http.Server;
let redirectUri: string;

beforeAll(async () => {
  // The client application: its redirect URI answers a small page.
  app = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('callback received'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
  browser = await launchChromium({ viewport: { width: 1000, height: 800 } });
  page = browser.page;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => app?.close(r));
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `oauth-${TEST_DB}-${name}.png`), fullPage: true });
const restGet = async (token: string) => {
  await gw.gateway.follower.poll();
  return request(gw.url).get('/Api/v6/envelope/1').set('Authorization', `Bearer ${token}`);
};

describe('consent and revoke in Chromium', () => {
  it('signs in, allows the app, the app calls REST (200), Revoke access stops it (401)', async () => {
    const { client } = await new OAuthStore(ts.store.db).registerClient(TEST_ACTOR, { name: 'Contract Robot', description: 'Prepares and sends your contracts for signature.', redirectUris: [redirectUri], public: true });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: redirectUri, scope: 'api:read', state: 'st-123', code_challenge: challenge, code_challenge_method: 'S256' });

    await page.goto(`${gw.url}/Auth/Authorize?${q}`);
    await page.getByRole('heading', { name: 'Sign in to authorize Contract Robot' }).waitFor();
    await page.getByLabel('Login name').fill(user.login);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Authorize Contract Robot' }).waitFor();
    await page.getByText('Prepares and sends your contracts for signature.').waitFor();
    await page.getByText(/api:read/).waitFor();
    await page.getByText(user.login).waitFor();
    await shot('consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const back = new URL(page.url());
    expect(back.searchParams.get('state')).toBe('st-123');
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^gtc_/);

    const tokens = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: client.id, code_verifier: verifier });
    expect(tokens.status).toBe(200);
    expect((await restGet(tokens.body.access_token)).status).toBe(200);

    await page.goto(`${gw.url}/settings`);
    await page.getByRole('heading', { name: 'Apps and Connections' }).waitFor();
    await page.getByRole('heading', { name: 'Contract Robot', exact: true }).waitFor();
    await page.getByText('Read-only API access (GET)').waitFor();
    await shot('apps');
    await page.getByRole('button', { name: 'Revoke access for Contract Robot' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke access for “Contract Robot”?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Revoke access' }).click();
    await page.getByRole('heading', { name: 'Contract Robot', exact: true }).waitFor({ state: 'detached' });
    await shot('revoked');

    expect((await restGet(tokens.body.access_token)).status).toBe(401);
    const refresh = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: client.id });
    expect(refresh.body.error).toBe('invalid_grant');
  }, 60_000);
});
