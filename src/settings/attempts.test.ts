// The sign-in brake alone (the HTTP paths: test/integration/attack-signin.test.ts): what is counted,
// when the right password is refused, when a window ends, and guesses sent all at once.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createSignInBrake, LINK_FAILURES_PER_ADDRESS, loginKey, SIGN_IN_FAILURES_PER_ADDRESS, SIGN_IN_FAILURES_PER_LOGIN } from './attempts.js';
import { TooManyAttempts } from './errors.js';

const from = (ip: string) => ({ ip }) as unknown as IncomingMessage;
const brake = (windowSeconds?: number) => createSignInBrake({ clientIp: (req) => (req as unknown as { ip: string }).ip, keyPrefix: 'test:', windowSeconds });
const wrong = async (): Promise<string | undefined> => undefined;
const right = async (): Promise<string | undefined> => 'user-1';

/** The outcome of one attempt: the judge's answer, or 429 with its Retry-After. */
async function outcome(p: Promise<string | undefined>): Promise<string | number | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof TooManyAttempts) return 429;
    throw e;
  }
}

describe('the sign-in brake', () => {
  it('refuses the right password once the login has failed 10 times, without asking the judge', async () => {
    const b = brake();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) expect(await b.signIn(from(`10.0.0.${i}`), 'Victim@Example.test', wrong)).toBeUndefined();
    let judged = false;
    const refused = b.signIn(from('10.0.1.1'), ' victim@example.TEST ', async () => {
      judged = true;
      return 'user-1';
    });
    await expect(refused).rejects.toBeInstanceOf(TooManyAttempts);
    await expect(refused).rejects.toMatchObject({ status: 429, retryAfterSeconds: expect.any(Number) });
    expect(judged).toBe(false);
    // Another login from one of those addresses is not affected (each address failed once)
    expect(await b.signIn(from('10.0.0.1'), 'someone@example.test', right)).toBe('user-1');
  });

  it('refuses an address after 30 failures against any logins, and only that address', async () => {
    const b = brake();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) await b.signIn(from('10.0.0.1'), `user${i}@example.test`, wrong);
    expect(await outcome(b.signIn(from('10.0.0.1'), 'fresh@example.test', right))).toBe(429);
    expect(await outcome(b.signIn(from('10.0.0.2'), 'fresh@example.test', right))).toBe('user-1');
  });

  it('counts IPv6 clients per /56, and an IPv4-mapped address as the IPv4 one', async () => {
    const b = brake();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) await b.signIn(from(`2001:db8:0:${(i % 200).toString(16)}::${i + 1}`), `user${i}@example.test`, wrong);
    expect(await outcome(b.signIn(from('2001:db8:0:ff::1'), 'fresh@example.test', right))).toBe(429);
    expect(await outcome(b.signIn(from('2001:db8:0:100::1'), 'fresh@example.test', right))).toBe('user-1');
    for (let i = 0; i < SIGN_IN_FAILURES_PER_ADDRESS; i++) await b.signIn(from('::ffff:192.0.2.7'), `user${i}@example.test`, wrong);
    expect(await outcome(b.signIn(from('192.0.2.7'), 'fresh@example.test', right))).toBe(429);
  });

  it('a success gives back its own point and resets nothing', async () => {
    const b = brake();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN - 1; i++) await b.signIn(from('10.0.0.1'), 'v@example.test', wrong);
    for (let i = 0; i < 5; i++) expect(await b.signIn(from('10.0.0.1'), 'v@example.test', right)).toBe('user-1');
    expect(await outcome(b.signIn(from('10.0.0.1'), 'v@example.test', wrong))).toBeUndefined(); // the 10th failure
    expect(await outcome(b.signIn(from('10.0.0.1'), 'v@example.test', right))).toBe(429);
  });

  it('a judge that throws (the store failed) is not counted as a guess', async () => {
    const b = brake();
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN + 5; i++) {
      await expect(b.signIn(from('10.0.0.1'), 'v@example.test', () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    }
    expect(await b.signIn(from('10.0.0.1'), 'v@example.test', right)).toBe('user-1');
  });

  it('guesses sent all at once are judged at most 10 times', async () => {
    const b = brake();
    let judged = 0;
    const slowWrong = async () => {
      judged++;
      await new Promise((r) => setTimeout(r, 20));
      return undefined;
    };
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => outcome(b.signIn(from(`10.0.${i}.1`), 'v@example.test', slowWrong))));
    expect(judged).toBe(SIGN_IN_FAILURES_PER_LOGIN);
    expect(outcomes.filter((o) => o === 429)).toHaveLength(50 - SIGN_IN_FAILURES_PER_LOGIN);
  });

  it('takes the right password again once the window has ended', async () => {
    const b = brake(1);
    for (let i = 0; i < SIGN_IN_FAILURES_PER_LOGIN; i++) await b.signIn(from('10.0.0.1'), 'v@example.test', wrong);
    expect(await outcome(b.signIn(from('10.0.0.2'), 'v@example.test', right))).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await b.signIn(from('10.0.0.2'), 'v@example.test', right)).toBe('user-1');
  });

  it('set-password links have a budget per address of their own', async () => {
    const b = brake();
    for (let i = 0; i < LINK_FAILURES_PER_ADDRESS; i++) await b.link(from('10.0.0.1'), wrong);
    expect(await outcome(b.link(from('10.0.0.1'), right))).toBe(429);
    // ...which is not the sign-in budget
    expect(await b.signIn(from('10.0.0.1'), 'v@example.test', right)).toBe('user-1');
  });

  it('keys a login name as the store compares it, hashed', () => {
    expect(loginKey(' Alice@Example.TEST ')).toBe(loginKey('alice@example.test'));
    expect(loginKey('alice@example.test')).not.toContain('alice');
  });
});
