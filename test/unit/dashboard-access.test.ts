import { checkDashboardAccess } from '@matinee/core';
import { describe, expect, it } from 'vitest';

const ORIGIN = 'https://preview.example.com';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const ask = (method: string, headers: Record<string, string | undefined>, password = 'hunter2-long') =>
  checkDashboardAccess({ method, headers, origin: ORIGIN }, password);

describe('dashboard access on AWS', () => {
  it('is off without a password, whatever the request', () => {
    expect(ask('GET', { authorization: basic('a:') }, '')).toMatchObject({ allowed: false, status: 404 });
  });

  it('asks for the password, with a Basic challenge, when none or a wrong one is given', () => {
    expect(ask('GET', {})).toMatchObject({
      allowed: false,
      status: 401,
      headers: { 'www-authenticate': expect.stringContaining('Basic') },
    });
    expect(ask('GET', { authorization: basic('me:wrong') })).toMatchObject({ status: 401 });
    expect(ask('GET', { authorization: 'Bearer hunter2-long' })).toMatchObject({ status: 401 });
  });

  it('lets the right password in, with any user name', () => {
    expect(ask('GET', { authorization: basic('anyone:hunter2-long') })).toEqual({ allowed: true });
  });

  it('refuses actions sent from another site even with the password', () => {
    const auth = basic('me:hunter2-long');
    expect(ask('POST', { authorization: auth, 'sec-fetch-site': 'cross-site' })).toMatchObject({
      status: 403,
    });
    expect(ask('POST', { authorization: auth, origin: 'https://evil.example' })).toMatchObject({
      status: 403,
    });
    expect(ask('POST', { authorization: auth, 'sec-fetch-site': 'same-origin' })).toEqual({ allowed: true });
    expect(ask('POST', { authorization: auth, origin: ORIGIN })).toEqual({ allowed: true });
  });
});
