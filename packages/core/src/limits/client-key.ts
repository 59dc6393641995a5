import { isIP } from 'node:net';

/**
 * The key a client's address is limited by, or undefined when it is not an address. IPv4 as is; IPv6 by
 * its /64 prefix, since whoever holds one address of a network usually holds all 2^64 of it; an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4) as its IPv4.
 */
export function clientKey(address: string): string | undefined {
  const plain = address.trim().toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(plain)?.[1];
  if (mapped && isIP(mapped) === 4) return mapped;
  const version = isIP(plain);
  if (version === 4) return plain;
  if (version !== 6) return undefined;
  const [head = '', tail] = plain.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  // An embedded IPv4 (`64:ff9b::192.0.2.1`) fills the last two groups.
  const width = (list: string[]) => list.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const before = groups(head);
  const after = groups(tail);
  const zeros = tail === undefined ? [] : Array(8 - width(before) - width(after)).fill('0');
  const prefix = [...before, ...zeros, ...after].slice(0, 4).map((group) => group.padStart(4, '0'));
  return `${prefix.join(':')}::/64`;
}
