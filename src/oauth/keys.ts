// oauth/: the access-token signing keys — the current private key (from a PEM file, or generated at
// start outside production) and older public keys kept only to verify tokens signed before a
// rotation. The key id is the RFC 7638 JWK thumbprint, so it never has to be configured.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface VerifyKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  key: KeyObject;
  jwk: JsonWebKey;
}

export interface SigningKeys {
  current: VerifyKey & { privateKey: KeyObject };
  /** Every key that verifies: the current one first, then the retired ones. */
  verifyKeys: Map<string, VerifyKey>;
  jwks(): { keys: JsonWebKey[] };
}

function thumbprint(jwk: JsonWebKey): string {
  // RFC 7638: the required members only, in lexicographic order, no whitespace.
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function describe(publicKey: KeyObject): VerifyKey {
  const type = publicKey.asymmetricKeyType;
  if (type === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('OAuth signing key: EC keys must be P-256 (ES256)');
  if (type !== 'ec' && type !== 'rsa') throw new Error('OAuth signing key: must be an EC P-256 or RSA key');
  const alg = type === 'ec' ? 'ES256' : 'RS256';
  const raw = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(raw);
  return { kid, alg, key: publicKey, jwk: { ...raw, kid, alg, use: 'sig' } };
}

export interface KeyConfig {
  signingKeyFile: string;
  retiredKeyFiles: string[];
}

/** Loads the keys; with no signing key file, generates a P-256 key for this process (not in production). */
export function loadSigningKeys(cfg: KeyConfig, production: boolean): SigningKeys {
  let privateKey: KeyObject;
  if (cfg.signingKeyFile) privateKey = createPrivateKey(readFileSync(cfg.signingKeyFile));
  else if (production) throw new Error('oauth.signingKeyFile is required in production');
  else privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const current = { ...describe(createPublicKey(privateKey)), privateKey };
  const verifyKeys = new Map<string, VerifyKey>([[current.kid, current]]);
  for (const file of cfg.retiredKeyFiles) {
    const k = describe(createPublicKey(readFileSync(file)));
    if (!verifyKeys.has(k.kid)) verifyKeys.set(k.kid, k);
  }
  return { current, verifyKeys, jwks: () => ({ keys: [...verifyKeys.values()].map((k) => k.jwk) }) };
}
