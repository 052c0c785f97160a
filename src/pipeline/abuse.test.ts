import { describe, expect, it } from 'vitest';
import { createAbuseLimits, parseBlockMessage, presentedSecret, tokenHint } from './abuse.js';
import { CredentialMissing, CredentialUnknown, PermissionDenied } from '../outcomes/errors.js';

const limits = (o: Partial<Parameters<typeof createAbuseLimits>[0]> = {}) =>
  createAbuseLimits({ failuresPerIp: 3, failuresPerToken: 2, windowSeconds: 60, tokenRequestsPerSecond: 0, keyPrefix: `u${Math.random()}:`, ...o });

describe('tokenHint', () => {
  it('depends on the first 8 and last 4 characters only, and never contains the secret', () => {
    const a = 'gtu_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const b = 'gtu_ABCDzzzzzzzzzzzzzzzzzzzzzzzzzz6789';
    expect(tokenHint(a)).toBe(tokenHint(b));
    expect(tokenHint(a)).not.toBe(tokenHint('gtu_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456780'));
    expect(tokenHint(a)).not.toContain('ABCD');
  });
});

describe('presentedSecret', () => {
  it.each([
    [{ apitoken: ' x1 ' }, 'x1'],
    [{ authorization: 'Bearer y2' }, 'y2'],
    [{ organizationkey: 'z3' }, 'z3'],
    [{}, undefined],
  ])('%o → %s', (headers, expected) => expect(presentedSecret(headers)).toBe(expected));
});

describe('parseBlockMessage', () => {
  it.each([
    ['{"limit":"ip","key":"1.2.3.4","ms":5000}', { limit: 'ip', key: '1.2.3.4', ms: 5000 }],
    ['{"limit":"hint","key":"abc","ms":1}', { limit: 'hint', key: 'abc', ms: 1 }],
    ['{"limit":"user","key":"x","ms":5}', undefined],
    ['{"limit":"ip","key":"x","ms":-1}', undefined],
    ['{"limit":"ip","key":5,"ms":5}', undefined],
    ['not json', undefined],
    ['["token:abc"]', undefined],
  ])('%s', (message, expected) => expect(parseBlockMessage(message)).toEqual(expected));
});

describe('createAbuseLimits (in-process)', () => {
  it('blocks an address after its failures, with a Retry-After within the window', async () => {
    const l = limits();
    for (let i = 0; i < 3; i++) {
      expect(l.check('1.2.3.4', `t${i}`)).toBeUndefined();
      await l.refused(new CredentialUnknown(), '1.2.3.4', `t${i}`);
    }
    const blocked = l.check('1.2.3.4', 'another');
    expect(blocked?.code).toBe('TooManyFailedAttempts');
    expect(blocked?.headers()['Retry-After']).toMatch(/^([1-9]|[1-5]\d|60)$/);
    expect(l.check('5.6.7.8', 'another')).toBeUndefined();
  });

  it('counts only failed authentications', async () => {
    const l = limits();
    for (let i = 0; i < 10; i++) {
      await l.refused(new CredentialMissing(), '1.1.1.1', undefined);
      await l.refused(new PermissionDenied(), '1.1.1.1', 'tok');
    }
    expect(l.check('1.1.1.1', 'tok')).toBeUndefined();
  });

  it('limits a token hint across addresses', async () => {
    const l = limits();
    await l.refused(new CredentialUnknown(), '10.0.0.1', 'same-token');
    await l.refused(new CredentialUnknown(), '10.0.0.2', 'same-token');
    expect((l.check('10.0.0.3', 'same-token'))?.code).toBe('TooManyFailedAttempts');
  });

  it('lifts a block when its window ends', async () => {
    const l = limits({ windowSeconds: 1 });
    await l.refused(new CredentialUnknown(), '10.0.0.9', 'tok-a');
    await l.refused(new CredentialUnknown(), '10.0.0.8', 'tok-a');
    expect(l.check('10.0.0.7', 'tok-a')?.code).toBe('TooManyFailedAttempts');
    await new Promise((r) => setTimeout(r, 1100));
    expect(l.check('10.0.0.7', 'tok-a')).toBeUndefined();
  });

  it('rate-limits requests per token when configured, and not at all otherwise', async () => {
    const l = limits({ tokenRequestsPerSecond: 2 });
    const outcomes = [await l.consumeRequest('t'), await l.consumeRequest('t'), await l.consumeRequest('t')];
    expect(outcomes.map((o) => o?.code)).toEqual([undefined, undefined, 'RateLimited']);
    const off = limits();
    for (let i = 0; i < 50; i++) expect(await off.consumeRequest('t')).toBeUndefined();
  });
});
