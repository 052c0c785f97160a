// Debian's Chromium (installed by .ci/run) driven by playwright-core, as every browser test
// launches it: headless, a fresh profile, and the flags this closed network needs.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots go here (gitignored). */
export const ARTIFACTS = join(import.meta.dirname, '../artifacts');

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(options: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A fresh profile per run (playwright's launchPersistentContext passes it as --user-data-dir).
  const profile = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, ...options });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the settings page and signs in with a password; it is then on "API Tokens and Apps". */
export async function signInToSettings(page: Page, baseUrl: string, login: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/settings`);
  await page.getByLabel('Login name').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'API Tokens and Apps', exact: true }).waitFor();
}
