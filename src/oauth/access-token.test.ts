import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, describe, expect, it } from 'vitest';
import { looksLikeJwt, signAccessToken, verifyAccessToken } from './access-token.js';
import { loadSigningKeys } from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pemFile = (name: string, type: 'ec' | 'rsa') => {
  const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, `${name}.pem`), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, `${name}.pub.pem`), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { key: join(dir, `${name}.pem`), pub: join(dir, `${name}.pub.pem`) };
};
const settings = { issuer: () => 'https://gw.test', audience: 'gatehouse-api', ttlSeconds: 600 };
const grant = { userId: 'u1', clientId: 'c1', scope: 'api', grantId: 'g1' };

describe('access tokens', () => {
  it('sign and verify: typ at+jwt, kid = JWK thumbprint, RFC 9068 claims', () => {
    const keys = loadSigningKeys({ signingKeyFile: '', retiredKeyFiles: [] }, false);
    const token = signAccessToken(keys, settings, grant);
    expect(looksLikeJwt(token)).toBe(true);
    expect(jwt.decode(token, { complete: true })!.header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: keys.current.kid });
    const v = verifyAccessToken(keys, settings, token);
    expect(v.ok && v.claims).toMatchObject({ iss: 'https://gw.test', aud: 'gatehouse-api', sub: 'u1', client_id: 'c1', scope: 'api', grant_id: 'g1' });
    expect(v.ok && v.claims.exp - v.claims.iat).toBe(600);
  });

  it('rotation: a token signed by the retired key verifies while it lives; the JWKS lists both keys', () => {
    const old = pemFile('old', 'ec');
    const next = pemFile('new', 'rsa');
    const before = loadSigningKeys({ signingKeyFile: old.key, retiredKeyFiles: [] }, true);
    const token = signAccessToken(before, settings, grant);
    const after = loadSigningKeys({ signingKeyFile: next.key, retiredKeyFiles: [old.pub] }, true);
    expect(after.current.alg).toBe('RS256');
    expect(after.jwks().keys.map((k) => k.kid)).toEqual([after.current.kid, before.current.kid]);
    expect(verifyAccessToken(after, settings, token).ok).toBe(true);
    // Past its expiry (plus the leeway) it does not.
    expect(verifyAccessToken(after, settings, token, Date.now() + 700_000)).toEqual({ ok: false, reason: 'expired' });
    // Once the retired key is dropped, nor does it.
    expect(verifyAccessToken(loadSigningKeys({ signingKeyFile: next.key, retiredKeyFiles: [] }, true), settings, token).ok).toBe(false);
  });

  it('production refuses to generate a key', () => {
    expect(() => loadSigningKeys({ signingKeyFile: '', retiredKeyFiles: [] }, true)).toThrow(/signingKeyFile is required/);
  });

  it('refuses an HMAC token signed with the public key (algorithm confusion)', () => {
    const keys = loadSigningKeys({ signingKeyFile: '', retiredKeyFiles: [] }, false);
    const pub = keys.current.key.export({ type: 'spki', format: 'pem' }) as string;
    const forged = jwt.sign({ ...grant, sub: 'u1' }, pub, { algorithm: 'HS256', header: { typ: 'at+jwt', alg: 'HS256', kid: keys.current.kid }, issuer: 'https://gw.test', audience: 'gatehouse-api' });
    expect(verifyAccessToken(keys, settings, forged).ok).toBe(false);
  });
});
