// The settings page in a real browser: playwright-core driving Debian's Chromium (/usr/bin/chromium,
// installed by .ci/run). Sign in, create a token, copy it from the page, call the REST gateway with
// it (401: new tokens start disabled), flip the slider (200), delete it (401). A screenshot of each
// state goes to test/artifacts/ (gitignored).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium, signInToSettings, type Browser } from '../helpers/chromium.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { PASSWORD } from '../helpers/settings-client.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { user } } = useGateway({
  // The organization still uses the deprecated organization tokens: the page shows that section too.
  users: { user: { password: true, features: ['OrganizationApiToken'] } },
});
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium({ viewport: { width: 1100, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  page = browser.page;
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `settings-${TEST_DB}-${name}.png`), fullPage: true });
const callGateway = async (token: string) => {
  await gw.gateway.follower.poll();
  return request(gw.url).get('/Api/v6/envelope/1').set('apiToken', token);
};

describe('the settings page in Chromium', () => {
  it('signs in, creates a token that starts disabled, enables it, deletes it — and the gateway follows', async () => {
    await signInToSettings(page, gw.url, user.login, PASSWORD);
    await page.getByRole('heading', { name: 'Apps and Connections' }).waitFor();
    await page.getByRole('heading', { name: 'Organization API Tokens (deprecated)' }).waitFor();
    await page.getByText("reaches every user's envelopes").waitFor();
    await shot('1-signed-in');

    // Create: the secret is shown once, with a copy button and a plain warning.
    await page.getByRole('button', { name: 'Add new API Token' }).click();
    await page.getByLabel('Token name').fill('Browser test');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretRegion = page.getByRole('region', { name: 'Your new token “Browser test”' });
    await secretRegion.waitFor();
    await secretRegion.getByText('It will not be shown again').waitFor();
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toMatch(/^gtu_[0-9A-Za-z]{36}$/);
    expect(copied).toBe(await page.getByLabel('Secret of token Browser test').inputValue());
    await shot('2-secret-shown');

    // New tokens start disabled: the gateway refuses it.
    const disabled = await callGateway(copied);
    expect(disabled.status).toBe(401);
    expect(disabled.body.ErrorId).toBe('CredentialDisabled');

    // Dismiss the secret; it is gone from the page for good.
    await page.getByRole('button', { name: 'Done, I copied it' }).click();
    expect(await page.content()).not.toContain(copied);

    // Flip the slider, by keyboard.
    const slider = page.getByRole('switch', { name: /“Browser test”/ });
    await expect(slider.isChecked()).resolves.toBe(false);
    await page.locator('li', { hasText: 'Browser test' }).getByText('New tokens start disabled.').waitFor();
    await slider.focus();
    await page.keyboard.press('Space');
    await page.getByText('Enabled: “Browser test” works').waitFor();
    await shot('3-enabled');
    expect((await callGateway(copied)).status).toBe(200);

    // Delete, with a confirmation that names the token.
    await page.getByRole('button', { name: 'Delete token Browser test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete token “Browser test”?' });
    await dialog.waitFor();
    await dialog.getByText('Every integration that uses “Browser test”').waitFor();
    await shot('4-delete-confirmation');
    await dialog.getByRole('button', { name: 'Delete “Browser test”' }).click();
    await page.getByRole('switch', { name: /“Browser test”/ }).waitFor({ state: 'detached' });
    await shot('5-deleted');
    const deleted = await callGateway(copied);
    expect(deleted.status).toBe(401);
    expect(deleted.body.ErrorId).toBe('CredentialUnknown');
  });

  it('creates an organization token (shown once, disabled), enables it, and a colleague call on v5 passes', async () => {
    await page.getByRole('button', { name: 'Add organization token' }).click();
    await page.getByLabel('Name of the organization token').fill('Legacy ERP');
    await page.getByRole('button', { name: 'Create organization token' }).click();
    const secret = await page.getByLabel('Secret of token Legacy ERP').inputValue();
    expect(secret).toMatch(/^gto_[0-9A-Za-z]{36}$/);
    const asUser = async () => {
      await gw.gateway.follower.poll();
      return request(gw.url).get('/Api/v5/envelope/1').set('organizationKey', secret).set('userLoginName', user.login);
    };
    expect((await asUser()).body.ErrorId).toBe('CredentialDisabled');
    await page.getByRole('button', { name: 'Done, I copied it' }).click();
    await page.getByRole('switch', { name: /“Legacy ERP”/ }).check();
    await page.getByText('Enabled: “Legacy ERP” works (REST v1–v5)').waitFor();
    await shot('3b-org-token-enabled');
    const ok = await asUser();
    expect(ok.status).toBe(200);
    expect(ok.headers.sunset).toBeDefined();
    await page.getByRole('button', { name: 'Delete organization token Legacy ERP' }).click();
    await page.getByRole('dialog', { name: 'Delete organization token “Legacy ERP”?' }).getByRole('button', { name: 'Delete “Legacy ERP”' }).click();
    await page.getByRole('switch', { name: /“Legacy ERP”/ }).waitFor({ state: 'detached' });
    expect((await asUser()).status).toBe(401);
  });

  it("lists an imported organization key (the platform's own GUID) with its hint, marked imported; deleting it on the page stops it", async () => {
    const key = randomUUID().toUpperCase();
    const [imported] = await new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement).importLegacy(TEST_ACTOR, user.org, [{ line: 1, name: 'Platform key', key }]);
    const asUser = async () => {
      await gw.gateway.follower.poll();
      return request(gw.url).get('/Api/v5/envelope/1').set('organizationKey', key).set('userLoginName', user.login);
    };
    expect((await asUser()).status).toBe(200);
    await page.reload();
    const item = page.locator(`[data-org-token-id="${imported!.id}"]`);
    await item.locator('[data-origin="legacy"]').getByText('Imported').waitFor();
    expect(await item.locator('.hint-code').textContent()).toBe(`…${key.slice(-4).toLowerCase()}`);
    await shot('3c-org-token-imported');
    await page.getByRole('button', { name: 'Delete organization token Platform key' }).click();
    await page.getByRole('dialog', { name: 'Delete organization token “Platform key”?' }).getByRole('button', { name: 'Delete “Platform key”' }).click();
    await item.waitFor({ state: 'detached' });
    expect((await asUser()).status).toBe(401);
  });

  it('works by keyboard: a delete confirmation opens on Cancel and Escape closes it, deleting nothing', async () => {
    const deleteButton = page.getByRole('button', { name: 'Delete token Integration A' });
    await deleteButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Delete token “Integration A”?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('switch', { name: /“Integration A”/ }).waitFor();
  });

  it('is readable at 400 px: one column, no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    await page.reload();
    await page.getByRole('heading', { name: 'API Tokens', exact: true }).waitFor();
    await shot('6-narrow');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
  });

  it('loads nothing from the network but the gateway', async () => {
    const origins = new Set<string>();
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    await page.reload();
    await page.getByRole('heading', { name: 'API Tokens', exact: true }).waitFor();
    expect([...origins]).toEqual([gw.url]);
  });

  it('returns to sign-in, saying why, when the session expires under the page', async () => {
    await sql`update settings_sessions set expires_at = ${new Date(Date.now() - 1000).toISOString()} where user_id = ${user.userId}`.execute(ts.store.db);
    await page.getByRole('button', { name: 'Add new API Token' }).click();
    await page.getByLabel('Token name').fill('Too late');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('Your session has ended; sign in again.').waitFor();
    await shot('7-session-ended');
  });
});
