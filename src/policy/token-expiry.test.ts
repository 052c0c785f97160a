import { describe, expect, it } from 'vitest';
import { EXPIRY_WARNING_MS, tokenExpiresHeader } from './token-expiry.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('tokenExpiresHeader', () => {
  it.each([
    ['no expiry', null, undefined],
    ['just outside 7 days', iso(NOW + EXPIRY_WARNING_MS + 1000), undefined],
    ['exactly 7 days', iso(NOW + EXPIRY_WARNING_MS), 'Sun, 06 Dec 2026 12:00:00 GMT'],
    ['in an hour', iso(NOW + 3_600_000), 'Sun, 29 Nov 2026 13:00:00 GMT'],
  ])('%s', (_name, expiresAt, want) => {
    expect(tokenExpiresHeader(expiresAt, NOW)).toBe(want);
  });
});
