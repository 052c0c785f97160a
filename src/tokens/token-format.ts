// tokens/: the token format of DESIGN.md §2 — minting, the shape check (no I/O), hashing.
// A minted token is `<prefix>` + 30 base62 random characters + 6 base62 characters of the CRC32
// of the random part, so a typo or a guessed token is refused before any cache or store look-up.
// Organization keys also come in the platform's two legacy forms (imported, never minted here):
// see checkOrgKeyShape.
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
/** The platform's organization keys as its public clients show them: a GUID, 8-4-4-4-12 hex digits, any case. */
export const GUID_PATTERN = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** The legacy forms an imported organization key can have: a GUID, or a token like the platform's user tokens. */
export const LEGACY_ORG_KEY_FORMS = ['guid', 'token'] as const;
export type LegacyOrgKeyForm = (typeof LEGACY_ORG_KEY_FORMS)[number];

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

/** Which legacy organization-key form `key` has, if any. Pure. */
export function legacyOrgKeyForm(key: string): LegacyOrgKeyForm | undefined {
  if (key.length === 36 && GUID_PATTERN.test(key)) return 'guid';
  return LEGACY_PATTERN.test(key) ? 'token' : undefined;
}

/**
 * The one spelling of a legacy organization key that is hashed, on import and on presentation
 * alike: GUIDs are case-insensitive (a client may print them in upper case), so they are lower-cased;
 * the 64–66 character form is lower case by definition and kept as is.
 */
export function canonicalOrgKey(key: string, form: LegacyOrgKeyForm): string {
  return form === 'guid' ? key.toLowerCase() : key;
}

export type OrgKeyShape =
  /** `canonical` is what to hash and look up. */
  | { ok: true; form: 'minted' | LegacyOrgKeyForm; canonical: string }
  /** `kind`: a well-formed token of another kind (a `gtu_` token sent as organizationKey): unknown, not malformed. */
  | { ok: false; reason: 'format' | 'checksum' | 'kind' };

/**
 * The shape check of an organization key: a `gto_` token (prefix, alphabet, checksum), or a legacy
 * form of which at least one key is imported (`imported`: the gateway's in-memory knowledge, kept
 * current through the change feed). While no key of a form is imported, that form is garbage like
 * any other: refused without a cache or store look-up. Pure.
 */
export function checkOrgKeyShape(key: string, imported: { has(form: LegacyOrgKeyForm): boolean }): OrgKeyShape {
  const shape = checkTokenShape(key);
  if (shape.ok) {
    if (shape.kind === 'organization') return { ok: true, form: 'minted', canonical: key };
    if (shape.kind !== 'legacy') return { ok: false, reason: 'kind' };
    return imported.has('token') ? { ok: true, form: 'token', canonical: key } : { ok: false, reason: 'format' };
  }
  if (shape.reason === 'checksum' || key.length !== 36 || !GUID_PATTERN.test(key) || !imported.has('guid')) return shape;
  return { ok: true, form: 'guid', canonical: key.toLowerCase() };
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
