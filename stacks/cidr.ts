/** An address range as a security group rule takes it: `cidrIpv4` or `cidrIpv6`, in canonical form. */
export interface Cidr {
  family: 'V4' | 'V6';
  cidr: string;
}

/**
 * Parses one range of `MATINEE_ALLOW_CIDRS`: IPv4 `203.0.113.0/24` or IPv6 `2001:db8::/32`, always with its
 * prefix length and with the address bits beyond the prefix zero (`10.1.2.3/8` is refused with `10.0.0.0/8`
 * suggested: a typo there would quietly open or close a different range). IPv6 comes back in RFC 5952 form,
 * so one range written two ways is seen as the same range.
 */
export function parseCidr(text: string): Cidr | { error: string } {
  const [address = '', prefixText, ...rest] = text.split('/');
  if (prefixText === undefined || rest.length)
    return { error: 'needs one prefix length, e.g. 203.0.113.7/32 for one address' };
  if (!/^\d{1,3}$/.test(prefixText)) return { error: `has a malformed prefix length ${prefixText}` };
  const prefix = Number(prefixText);
  const isV4 = !address.includes(':');
  const bits = isV4 ? ipv4(address) : ipv6(address);
  if (bits === undefined) return { error: 'is not an IPv4 or IPv6 address range' };
  const width = isV4 ? 32 : 128;
  if (prefix > width) return { error: `has a prefix longer than ${width}` };
  const hostBits = BigInt(width - prefix);
  const network = (bits >> hostBits) << hostBits;
  const family = isV4 ? 'V4' : 'V6';
  const canonical = `${isV4 ? formatIpv4(network) : formatIpv6(network)}/${prefix}`;
  if (network !== bits)
    return { error: `has address bits set beyond its prefix (did you mean ${canonical}?)` };
  return { family, cidr: canonical };
}

function ipv4(address: string): bigint | undefined {
  const parts = address.split('.');
  // No leading zeros: some tools read 010 as octal.
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255))
    return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

function ipv6(address: string): bigint | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined) => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return all.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest run (the first of equals) of two or more zero groups as `::`. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, index) =>
    Number((value >> BigInt(112 - 16 * index)) & 0xffffn),
  );
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.length < 2) return hex.join(':');
  const head = hex.slice(0, best.start).join(':');
  const tail = hex.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}
