import { describe, expect, it } from 'vitest';
import { canonicalOrgKey, checkOrgKeyShape, checkTokenShape, hashToken, legacyOrgKeyForm, mintToken, tokenHint, type LegacyOrgKeyForm } from './token-format.js';

describe('token format', () => {
  it('mints gtu_ tokens of 40 characters that pass their own shape check', () => {
    for (let i = 0; i < 200; i++) {
      const t = mintToken('user');
      expect(t).toMatch(/^gtu_[0-9A-Za-z]{36}$/);
      expect(checkTokenShape(t)).toEqual({ ok: true, kind: 'user' });
    }
  });

  it('refuses a token whose checksum does not match', () => {
    const t = mintToken('user');
    const last = t.at(-1) === 'a' ? 'b' : 'a';
    expect(checkTokenShape(t.slice(0, -1) + last)).toEqual({ ok: false, reason: 'checksum' });
    const flipped = t.slice(0, 10) + (t[10] === 'x' ? 'y' : 'x') + t.slice(11);
    expect(checkTokenShape(flipped)).toEqual({ ok: false, reason: 'checksum' });
  });

  it.each([
    ['', 'format'],
    ['gtu_short', 'format'],
    ['gtx_' + 'a'.repeat(36), 'format'],
    ['a'.repeat(63), 'format'],
    ['a'.repeat(67), 'format'],
    ['A'.repeat(64), 'format'],
    ['a'.repeat(63) + '-', 'format'],
  ])('refuses %j as %s', (token, reason) => {
    expect(checkTokenShape(token)).toEqual({ ok: false, reason });
  });

  it.each([64, 65, 66])('accepts legacy tokens of %i lower-case alphanumerics', (n) => {
    expect(checkTokenShape('a1'.repeat(40).slice(0, n))).toEqual({ ok: true, kind: 'legacy' });
  });

  it('hashes with SHA-256 and hints without the secret', () => {
    const t = mintToken('organization');
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenHint(t)).toBe(`gto_…${t.slice(-4)}`);
    expect(tokenHint(t)).not.toContain(t.slice(4, 34));
  });
});

describe('organization-key shape', () => {
  const GUID = 'a1b2c3d4-e5f6-4789-9abc-def012345678';
  const TOKEN64 = 'k9'.repeat(32);
  const gto = mintToken('organization');
  const none = new Set<LegacyOrgKeyForm>();
  const both = new Set<LegacyOrgKeyForm>(['guid', 'token']);

  it.each<[string, LegacyOrgKeyForm | undefined]>([
    [GUID, 'guid'],
    [GUID.toUpperCase(), 'guid'],
    ['A1B2c3d4-E5f6-4789-9ABC-def012345678', 'guid'],
    [TOKEN64, 'token'],
    ['a'.repeat(66), 'token'],
    [`{${GUID}}`, undefined],
    [GUID.replaceAll('-', ''), undefined],
    [GUID.slice(0, -1) + 'g', undefined],
    [GUID + ' ', undefined],
    [`${GUID.slice(0, 8)}_${GUID.slice(9)}`, undefined],
    ['A'.repeat(64), undefined],
    [gto, undefined],
  ])('legacyOrgKeyForm(%j) = %j', (key, form) => {
    expect(legacyOrgKeyForm(key)).toBe(form);
  });

  it('canonicalizes GUIDs to lower case (one hash for every spelling) and leaves the token form alone', () => {
    expect(canonicalOrgKey(GUID.toUpperCase(), 'guid')).toBe(GUID);
    expect(hashToken(canonicalOrgKey('A1B2C3D4-e5f6-4789-9ABC-DEF012345678', 'guid'))).toBe(hashToken(GUID));
    expect(canonicalOrgKey(TOKEN64, 'token')).toBe(TOKEN64);
  });

  it('accepts gto_ tokens whatever is imported, and refuses a bad checksum as such', () => {
    expect(checkOrgKeyShape(gto, none)).toEqual({ ok: true, form: 'minted', canonical: gto });
    expect(checkOrgKeyShape(gto.slice(0, -1) + (gto.endsWith('a') ? 'b' : 'a'), both)).toEqual({ ok: false, reason: 'checksum' });
  });

  it('a well-formed token of another kind is "kind" (unknown, not malformed)', () => {
    expect(checkOrgKeyShape(mintToken('user'), both)).toEqual({ ok: false, reason: 'kind' });
  });

  it.each<[string, LegacyOrgKeyForm[], unknown]>([
    [GUID, [], { ok: false, reason: 'format' }],
    [GUID, ['token'], { ok: false, reason: 'format' }],
    [GUID, ['guid'], { ok: true, form: 'guid', canonical: GUID }],
    [GUID.toUpperCase(), ['guid'], { ok: true, form: 'guid', canonical: GUID }],
    [TOKEN64, [], { ok: false, reason: 'format' }],
    [TOKEN64, ['guid'], { ok: false, reason: 'format' }],
    [TOKEN64, ['token'], { ok: true, form: 'token', canonical: TOKEN64 }],
    [TOKEN64.toUpperCase(), ['guid', 'token'], { ok: false, reason: 'format' }],
    [`{${GUID}}`, ['guid', 'token'], { ok: false, reason: 'format' }],
    ['nonsense', ['guid', 'token'], { ok: false, reason: 'format' }],
    ['', ['guid', 'token'], { ok: false, reason: 'format' }],
    ['x'.repeat(5000), ['guid', 'token'], { ok: false, reason: 'format' }],
  ])('%j with %j imported → %j', (key, imported, expected) => {
    expect(checkOrgKeyShape(key, new Set(imported))).toEqual(expected);
  });

  it('asks only about the form the key has', () => {
    const asked: LegacyOrgKeyForm[] = [];
    const spy = { has: (f: LegacyOrgKeyForm) => (asked.push(f), false) };
    checkOrgKeyShape(GUID, spy);
    checkOrgKeyShape(TOKEN64, spy);
    checkOrgKeyShape(gto, spy);
    checkOrgKeyShape('garbage', spy);
    expect(asked).toEqual(['guid', 'token']);
  });
});
