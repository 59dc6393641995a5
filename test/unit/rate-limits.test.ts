import { clientKey, MemoryRateLimiter, parseRateLimit } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { albClientAddress } from '../../functions/lib/client-address.ts';
import { ManualClock } from '../support/fakes.ts';

describe('wake limit settings', () => {
  it.each([
    ['10/10m', { count: 10, windowSeconds: 600 }],
    ['6/1h', { count: 6, windowSeconds: 3600 }],
    [' 3/90s ', { count: 3, windowSeconds: 90 }],
  ])('reads %s', (text, limit) => {
    expect(parseRateLimit(text)).toEqual(limit);
  });

  it.each(['', '10', '0/10m', '10/0s', '10/2d', '501/1m', '-1/10m', '10 per 10m', '1e3/1m'])(
    'refuses %j',
    (text) => {
      expect(parseRateLimit(text)).toBeUndefined();
    },
  );
});

describe('the client address of an ALB request', () => {
  it('is the last X-Forwarded-For entry, the one the load balancer appended', () => {
    expect(albClientAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(albClientAddress('10.0.0.1, 1.1.1.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(albClientAddress('2001:db8::1')).toBe('2001:db8::1');
  });

  it('reads an entry with the client port', () => {
    expect(albClientAddress('1.1.1.1, 203.0.113.7:51234')).toBe('203.0.113.7');
    expect(albClientAddress('[2001:db8::1]:51234')).toBe('2001:db8::1');
  });

  it('is nothing when the last entry is not an address', () => {
    expect(albClientAddress(undefined)).toBeUndefined();
    expect(albClientAddress('203.0.113.7, nonsense')).toBeUndefined();
    expect(albClientAddress('203.0.113.7,')).toBeUndefined();
  });
});

describe('the key a client is limited by', () => {
  it('is an IPv4 address as it is, also when a dual-stack socket maps it', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 of an IPv6 address, however it is written', () => {
    const key = '2001:0db8:0001:0002::/64';
    expect(clientKey('2001:db8:1:2::1')).toBe(key);
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe(key);
    expect(clientKey('2001:DB8:1:2::FFFF')).toBe(key);
    expect(clientKey('2001:db8:1:2::1%eth0')).toBe(key);
    expect(clientKey('2001:db8::1')).toBe('2001:0db8:0000:0000::/64');
    expect(clientKey('::1')).toBe('0000:0000:0000:0000::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('0064:ff9b:0000:0000::/64');
  });

  it('is nothing for what is not an address', () => {
    expect(clientKey('localhost')).toBeUndefined();
    expect(clientKey('')).toBeUndefined();
  });
});

describe('the in-memory rate limiter', () => {
  it('admits `limit` distinct events per window, counting an event once', async () => {
    const clock = new ManualClock(new Date('2026-11-02T09:05:00Z'));
    const limiter = new MemoryRateLimiter(clock);

    const taken = [];
    for (const event of ['a', 'a', 'b', 'c', 'a']) taken.push(await limiter.take('k', event, 2, 600));

    expect(taken.map((t) => t.allowed)).toEqual([true, true, true, false, true]);
    expect(taken[3]?.retryAfterSeconds).toBe(300);
    clock.advance(300_000);
    expect((await limiter.take('k', 'c', 2, 600)).allowed).toBe(true);
  });

  it('holds at most maxKeys counters, dropping expired ones first', async () => {
    const clock = new ManualClock(new Date('2026-11-02T09:00:00Z'));
    const limiter = new MemoryRateLimiter(clock, 100);
    await limiter.take('long-lived', 'x', 1, 86_400);
    for (let i = 0; i < 99; i++) await limiter.take(`short ${i}`, 'x', 1, 60);
    clock.advance(60_000);

    for (let i = 0; i < 1000; i++) await limiter.take(`new ${i}`, 'x', 1, 60);

    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it('keeps a busy key counting while others come and go', async () => {
    const clock = new ManualClock(new Date('2026-11-02T09:00:00Z'));
    const limiter = new MemoryRateLimiter(clock, 10);
    await limiter.take('busy', 'a', 1, 600);
    // Expired counters make room before live ones are dropped.
    for (let i = 0; i < 9; i++) await limiter.take(`gone ${i}`, 'x', 1, 1);
    clock.advance(1000);
    await limiter.take('newcomer', 'x', 1, 600);

    expect((await limiter.take('busy', 'b', 1, 600)).allowed).toBe(false);
  });
});
