// web/: owns the Express side's shared pieces and the settings page. The one error handler of the
// settings API, the OAuth routes and the leaked-token endpoint is error-handler.ts; this file serves
// the page — the HTML shell at /settings and the static bundle built by esbuild from src/web/page/
// into dist/web/assets/ at build time. No network access at run time: every byte the page needs
// comes from this process.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import helmet from 'helmet';

/** dist/web/assets, reached the same way from src/web (tests) and dist/web (production). */
export const ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/web/assets');

// Only our own script, style and connections: no inline script, no third-party origin. Helmet sets
// it with its other security headers (nosniff, frame denial, COOP/CORP, HSTS over HTTPS...).
const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'https:', 'data:'], // https: for the logos of connected apps
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
};

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API Tokens and Apps · Gatehouse</title>
<link rel="stylesheet" href="/settings/assets/settings.css">
<script type="module" src="/settings/assets/settings.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">Gatehouse</span><span id="whoami"></span></header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>This page needs JavaScript.</p></noscript>
</body>
</html>
`;

export function settingsPage(): Router {
  const page = express.Router();
  const security = helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES }, referrerPolicy: { policy: 'no-referrer' } });
  page.use('/settings', security);
  const headers = { 'Cache-Control': 'no-store' };
  page.get(['/settings', '/settings/'], (_req, res) => {
    if (!existsSync(join(ASSETS_DIR, 'settings.js'))) {
      res.status(500).type('text/plain').send('The settings page is not built: run `npm run build`.\n');
      return;
    }
    res.set(headers).type('html').send(SHELL);
  });
  page.use('/settings/assets', express.static(ASSETS_DIR, { index: false, fallthrough: false, maxAge: '5m' }));
  return page;
}
