import { describe, expect, it } from 'vitest';
import { albEvent, albRequestPath } from '../../functions/lib/events.ts';
import { albEvent as anAlbEvent } from '../support/lambda-events.ts';

/** The ALB hands a Lambda target the query undecoded: `?q=a%20b` arrives as `{ q: 'a%20b' }`. */
const pathOf = (path: string, query: Record<string, string>) =>
  albRequestPath(albEvent.parse(anAlbEvent({ path, headers: { host: 'x' }, query })));

describe('the path a request of the ALB was for', () => {
  it('keeps an encoded query as the client wrote it, without encoding it again', () => {
    expect(pathOf('/search', { q: 'a%20b', next: '%2Forders%3Fpage%3D2' })).toBe(
      '/search?q=a%20b&next=%2Forders%3Fpage%3D2',
    );
  });

  it('is the bare path without a query', () => {
    expect(pathOf('/orders', {})).toBe('/orders');
  });

  it('escapes what no URL may hold, and a % that starts no escape', () => {
    expect(pathOf('/', { q: '<a b>"', p: '100%', r: '%zz' })).toBe('/?q=%3Ca%20b%3E%22&p=100%25&r=%25zz');
  });
});
