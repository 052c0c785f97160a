import { describe, expect, it } from 'vitest';
import { checkTokenShape, hashToken, mintToken, tokenHint } from './token-format.js';

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
