// oauth/: the server-rendered pages of the authorization step — sign-in, consent, and the error a
// user sees when the application cannot be trusted. Small HTML, everything escaped, no script;
// the CSP lets the form post here and the answer redirect only to the client's redirect URI.
// The consent page says what the app asks for in the permission vocabulary's words (permissions/):
// the whole in one line, then each family with its access and what it covers.
import { ALL_GRANTS, describeScope, FAMILIES, FAMILY_WORDS, grantsOfScope, type Access } from '../permissions/vocabulary.js';
import type { AuthorizeRequest } from './authorize-request.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function pageHeaders(redirectUri?: string): Record<string, string> {
  // Chromium applies form-action to the redirect that follows the POST: allow the client's origin.
  const formAction = redirectUri ? `'self' ${new URL(redirectUri).origin}` : "'self'";
  return {
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer the browser sends `Origin: null` on our own form
    // posts, and the same-origin check (routes.ts) must refuse null (a hostile page can send it too).
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
  };
}

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Gatehouse</title>
<link rel="stylesheet" href="/settings/assets/settings.css"></head>
<body><header class="top"><span class="brand">Gatehouse</span></header>
<main id="main">${body}</main></body></html>
`;
}

function hidden(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v!)}">`)
    .join('');
}

export function requestFields(r: AuthorizeRequest): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: r.client.id,
    redirect_uri: r.redirectUri,
    scope: r.scope,
    state: r.state,
    code_challenge: r.codeChallenge ?? undefined,
    code_challenge_method: r.codeChallenge ? 'S256' : undefined,
  };
}

const ACCESS_WORDS: Readonly<Record<Access, string>> = { read: 'read only', write: 'read and write' };

/** What a scope lets the app do, in words: "Read envelopes", then each family it reaches and what that covers. */
function scopeInWords(scope: string): string {
  const grants = grantsOfScope(scope);
  const everything = grants === ALL_GRANTS; // grantsOfScope answers a scope holding `api` with ALL_GRANTS itself
  const families = FAMILIES.flatMap((f) => {
    const access = grants[f];
    if (!access) return [];
    const w = FAMILY_WORDS[f];
    return [`<li><strong>${esc(w.label)}</strong> (${ACCESS_WORDS[access]}) — <span class="muted">${esc(w.covers)}</span></li>`];
  });
  // `api` reaches beyond the families too: every call the user's account may make.
  const summary = everything ? `${describeScope(scope)} your account may do through the e-signature API` : describeScope(scope);
  return `<p class="scope-summary"><strong>${esc(summary)}</strong></p>
<ul class="scopes">${families.join('')}</ul>
<p class="muted">Scope: <code>${esc(scope)}</code>. It acts as you, and never with more than your account may do.</p>`;
}

export function consentPage(r: AuthorizeRequest, loginName: string, csrfToken: string): string {
  const c = r.client;
  const logo = c.logo_url ? `<img class="app-logo" src="${esc(c.logo_url)}" alt="" width="48" height="48">` : '';
  return shell(
    `Authorize ${c.name}`,
    `<section aria-labelledby="consent-title">${logo}
<h1 id="consent-title">Authorize ${esc(c.name)}</h1>
${c.description ? `<p class="app-description">${esc(c.description)}</p>` : ''}
<p>Signed in as <strong>${esc(loginName)}</strong>. <strong>${esc(c.name)}</strong> asks to:</p>
${scopeInWords(r.scope)}
<p class="muted">You can revoke its access at any time under <a href="/settings">API Tokens and Apps</a>.</p>
<form method="post" action="/settings/authorize">${hidden({ ...requestFields(r), csrf_token: csrfToken })}
<button type="submit" class="primary" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></section>`,
  );
}

export function signInPage(r: AuthorizeRequest, query: string, error?: string): string {
  return shell(
    'Sign in',
    `<section aria-labelledby="signin-title"><h1 id="signin-title">Sign in to authorize ${esc(r.client.name)}</h1>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/settings/authorize/sign-in">${hidden({ query })}
<label>Login name <input name="login" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></section>`,
  );
}

export function errorPage(message: string): string {
  return shell('Authorization failed', `<section><h1>This authorization request cannot be completed</h1><p class="error" role="alert">${esc(message)}</p></section>`);
}
