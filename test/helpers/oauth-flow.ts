// Drives the authorization step of an OAuth flow without a browser: the settings session cookie
// (signed in like the page does) and the consent form posted with fetch, as a browser would.
import { expect } from 'vitest';
import { signIn } from './settings-client.js';

/** Follows /oauth/authorize to the consent page, allows (or denies) it, returns the client's callback URL. */
export async function consent(gatewayUrl: string, authorizationUrl: string, login: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const first = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(first.status).toBe(303);
  const consentPath = first.headers.get('location')!;
  expect(consentPath).toMatch(/^\/settings\/authorize\?/);
  const { cookie } = await signIn(gatewayUrl, login);
  const page = await fetch(gatewayUrl + consentPath, { headers: { cookie } });
  expect(page.status).toBe(200);
  const html = await page.text();
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
  }
  fields.set('decision', decision);
  const answer = await fetch(`${gatewayUrl}/settings/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: fields });
  expect(answer.status).toBe(303);
  return new URL(answer.headers.get('location')!);
}
