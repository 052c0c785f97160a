// Micro-benchmark (not part of npm test): the edge cost of verifying an OAuth access token locally
// (ES256, jsonwebtoken) next to the shape check + SHA-256 of a user API token. Run after `npm run build`:
//   node test/bench/oauth-verify.mjs
import { loadSigningKeys } from '../../dist/oauth/keys.js';
import { signAccessToken, verifyAccessToken } from '../../dist/oauth/access-token.js';
import { hashToken, checkTokenShape, mintToken } from '../../dist/tokens/token-format.js';
const keys = loadSigningKeys({ signingKeyFile: '', retiredKeyFiles: [] }, false);
const s = { issuer: () => 'http://gw', audience: 'gatehouse-api', ttlSeconds: 600 };
const t = signAccessToken(keys, s, { userId: 'u', clientId: 'c', scope: 'api', grantId: 'g' });
const u = mintToken('user');
const N = 20000;
let t0 = performance.now(); for (let i = 0; i < N; i++) verifyAccessToken(keys, s, t); const jwtUs = (performance.now() - t0) * 1000 / N;
t0 = performance.now(); for (let i = 0; i < N; i++) { checkTokenShape(u); hashToken(u); } const apiUs = (performance.now() - t0) * 1000 / N;
console.log(`ES256 access-token verify: ${jwtUs.toFixed(1)} µs/op; API token shape+SHA-256: ${apiUs.toFixed(1)} µs/op; ratio ${(jwtUs / apiUs).toFixed(1)}x`);
