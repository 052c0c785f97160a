// credentials/: the token format of DESIGN.md §2 — minting, the shape check (no I/O), hashing.
// A minted token is `<prefix>` + 30 base62 random characters + 6 base62 characters of the CRC32
// of the random part, so a typo or a guessed token is refused before any cache or store look-up.
import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;

export const TOKEN_PREFIXES = {
  user: 'gtu_',
  organization: 'gto_',
  refresh: 'gtr_',
  code: 'gtc_',
  clientSecret: 'gts_',
} as const;
export type TokenKind = keyof typeof TOKEN_PREFIXES;

/** `gtu_` + 36 base62 characters. */
const MINTED_PATTERN = /^(gt[uotcrs])_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;
/** Tokens imported from the platform: 64 to 66 lower-case alphanumerics. */
export const LEGACY_PATTERN = /^[a-z0-9]{64,66}$/;

function base62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_LENGTH);
}

export function mintToken(kind: TokenKind): string {
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) random += BASE62[randomInt(62)];
  return TOKEN_PREFIXES[kind] + random + checksum(random);
}

export type TokenShape =
  | { ok: true; kind: TokenKind | 'legacy' }
  | { ok: false; reason: 'format' | 'checksum' };

/** The shape check: length, alphabet, prefix and checksum. Pure; never touches the cache or store. */
export function checkTokenShape(token: string): TokenShape {
  const m = MINTED_PATTERN.exec(token);
  if (m) {
    const kind = (Object.keys(TOKEN_PREFIXES) as TokenKind[]).find((k) => TOKEN_PREFIXES[k] === `${m[1]}_`);
    if (!kind) return { ok: false, reason: 'format' };
    return checksum(m[2]!) === m[3] ? { ok: true, kind } : { ok: false, reason: 'checksum' };
  }
  return LEGACY_PATTERN.test(token) ? { ok: true, kind: 'legacy' } : { ok: false, reason: 'format' };
}

/** What the store keeps: the SHA-256 of the whole token, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What a user sees in lists instead of the secret: `gtu_…abcd` (legacy tokens: `…abcd`). */
export function tokenHint(token: string): string {
  const prefix = MINTED_PATTERN.test(token) ? token.slice(0, 4) : '';
  return `${prefix}…${token.slice(-4)}`;
}
