// Restricted tokens on the settings page, in a real browser (issue 20): playwright-core driving
// Debian's Chromium. Sign in, create a token restricted to "Envelopes: Read" with the permission
// picker, enable it, read its restrictions in words on its card, and call the REST gateway with it
// (envelopes 200, templates 403 TokenRestricted); then edit its restrictions on the page to add
// "Templates: Read" and see the gateway follow within the change feed's bound. A bad network is the
// server's 400, shown in the form. Screenshots go to test/artifacts/ (gitignored).
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium, signInToSettings, type Browser } from '../helpers/chromium.js';
import { PASSWORD } from '../helpers/settings-client.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';

const { gw, users: { user } } = useGateway({ users: { user: { password: true } } });
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium({ viewport: { width: 1100, height: 900 } });
  page = browser.page;
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** How long a change may take to reach the gateway here: the change feed is polled every 200 ms in tests. */
const PROPAGATION_MS = 2_000;

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `restricted-tokens-${TEST_DB}-${name}.png`), fullPage: true });
const get = (path: string, token: string) => request(gw.url).get(path).set('apiToken', token);

/** Calls until the answer has `status`, for at most the propagation bound; the last answer. */
async function eventually(path: string, token: string, status: number): Promise<request.Response> {
  const until = Date.now() + PROPAGATION_MS;
  for (;;) {
    const res = await get(path, token);
    if (res.status === status || Date.now() >= until) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('restricted tokens on the settings page, in Chromium', () => {
  let secret = '';

  it('creates a token restricted to reading envelopes with the picker; its card says so; the gateway refuses templates', async () => {
    await signInToSettings(page, gw.url, user.login, PASSWORD);

    await page.getByRole('button', { name: 'Add new API Token' }).click();
    const form = page.getByRole('form', { name: 'New API token' });
    await form.getByLabel('Token name').fill('Envelope reader');
    // "Everything" is the default; the family rows appear once the user chooses to restrict
    await expect(form.getByRole('radio', { name: 'Everything (no restriction)' }).isChecked()).resolves.toBe(true);
    await expect(form.getByRole('radiogroup', { name: 'Envelopes' }).isVisible()).resolves.toBe(false);
    await form.getByRole('radio', { name: 'Restrict to the permissions below' }).check();
    const envelopes = form.getByRole('radiogroup', { name: 'Envelopes' });
    await expect(envelopes.getByRole('radio', { name: 'None' }).isChecked()).resolves.toBe(true);
    await envelopes.getByRole('radio', { name: 'Read' }).check();
    await expect(form.getByRole('combobox', { name: 'Highest API version' }).inputValue()).resolves.toBe('');
    await shot('1-picker');
    await form.getByRole('button', { name: 'Create token' }).click();

    secret = await page.getByLabel('Secret of token Envelope reader').inputValue();
    expect(secret).toMatch(/^gtu_[0-9A-Za-z]{36}$/);
    await page.getByRole('button', { name: 'Done, I copied it' }).click();
    await page.getByRole('switch', { name: /“Envelope reader”/ }).check();
    await page.getByText('Enabled: “Envelope reader” works').waitFor();

    const card = page.locator('li', { hasText: 'Envelope reader' });
    await card.getByText('Read envelopes', { exact: true }).waitFor();
    await shot('2-card');

    await gw.gateway.follower.poll();
    expect((await get('/Api/v6/envelope/1', secret)).status).toBe(200);
    const refused = await get('/Api/v6/template/1', secret);
    expect(refused.status).toBe(403);
    expect(refused.body.ErrorId).toBe('TokenRestricted');
  });

  it('edits its restrictions on the page to add reading templates, and the gateway follows', async () => {
    await page.getByRole('button', { name: 'Edit restrictions of token Envelope reader' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restrictions of “Envelope reader”' });
    await dialog.waitFor();
    // The picker opens on what the token has now
    await expect(dialog.getByRole('radio', { name: 'Restrict to the permissions below' }).isChecked()).resolves.toBe(true);
    await expect(dialog.getByRole('radiogroup', { name: 'Envelopes' }).getByRole('radio', { name: 'Read' }).isChecked()).resolves.toBe(true);
    await dialog.getByRole('radiogroup', { name: 'Templates' }).getByRole('radio', { name: 'Read' }).check();
    await shot('3-edit');
    await dialog.getByRole('button', { name: 'Save restrictions' }).click();
    await dialog.waitFor({ state: 'detached' });

    const card = page.locator('li', { hasText: 'Envelope reader' });
    await card.getByText('Read envelopes and templates', { exact: true }).waitFor();
    await shot('4-edited');
    // No explicit poll: the gateway's own change-feed polling brings the change
    expect((await eventually('/Api/v6/template/1', secret, 200)).status).toBe(200);
    expect((await get('/Api/v6/envelope/1', secret)).status).toBe(200);
    expect((await get('/Api/v6/draft/1', secret)).body.ErrorId).toBe('TokenRestricted');
  });

  it("shows the server's refusal of a bad network in the dialog, changing nothing; a good one and a version ceiling are saved in words", async () => {
    await page.getByRole('button', { name: 'Edit restrictions of token Envelope reader' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restrictions of “Envelope reader”' });
    await dialog.getByLabel('Allowed networks (optional)').fill('not-a-network');
    await dialog.getByRole('button', { name: 'Save restrictions' }).click();
    await dialog.getByRole('alert').getByText('network "not-a-network" is not an IPv4 or IPv6 address or CIDR').waitFor();
    await shot('5-bad-network');

    await dialog.getByLabel('Allowed networks (optional)').fill('127.0.0.0/8, ::1\n::ffff:127.0.0.0/104');
    await dialog.getByRole('combobox', { name: 'Highest API version' }).selectOption('6');
    await dialog.getByRole('button', { name: 'Save restrictions' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .locator('li', { hasText: 'Envelope reader' })
      .getByText('Read envelopes and templates · from 127.0.0.0/8, ::1/128 · API v6 and earlier', { exact: true })
      .waitFor();
    expect((await eventually('/Api/v6/template/1', secret, 200)).status).toBe(200);
  });

  it('lifts every restriction with "Everything", and the gateway follows', async () => {
    await page.getByRole('button', { name: 'Edit restrictions of token Envelope reader' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restrictions of “Envelope reader”' });
    await dialog.getByRole('radio', { name: 'Everything (no restriction)' }).check();
    await dialog.getByLabel('Allowed networks (optional)').fill('');
    await dialog.getByRole('combobox', { name: 'Highest API version' }).selectOption('');
    await dialog.getByRole('button', { name: 'Save restrictions' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('li', { hasText: 'Envelope reader' }).getByText('Everything its user may do', { exact: true }).waitFor();
    expect((await eventually('/Api/v6/draft/1', secret, 200)).status).toBe(200);
  });

  it('is readable at 400 px with the picker open: no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    await page.getByRole('button', { name: 'Add new API Token' }).click();
    await page.getByRole('form', { name: 'New API token' }).getByRole('radio', { name: 'Restrict to the permissions below' }).check();
    await shot('6-narrow');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
  });
});
