import { describe, expect, it } from 'vitest';
import { addressKey } from './connection-cap.js';

describe('what a peer address is counted under', () => {
  it('an IPv4 address as itself, IPv4-mapped or not', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });
  it('an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:a:b::/64';
    for (const a of ['2001:db8:a:b::1', '2001:0db8:000a:000b:0000:0000:0000:0002', '2001:DB8:A:B:ffff:ffff:ffff:ffff', '2001:db8:a:b:1::']) expect(addressKey(a), a).toBe(key);
    expect(addressKey('2001:db8:a:c::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });
});
