import { isIPv4, isIPv6 } from 'node:net';

/**
 * Where preview tasks may connect (MATINEE_PREVIEW_EGRESS): `all`, or a list of `CIDR` (every protocol) and
 * `CIDR:port` / `CIDR:from-to` (TCP) entries, each one outbound rule of the tasks' security group. Pure (no
 * SST globals), so settings validate with it and tests read it.
 *
 * A preview's task needs HTTPS out whatever else it does: Fargate pulls its image (ECR, and S3 for ECR's
 * layers, or Docker Hub) and ships its logs (CloudWatch Logs) through the task's own network interface. A list
 * without port 443 would fail every preview, so it is refused. DNS through the VPC's resolver is not filtered by
 * security groups and needs no entry.
 */
export type PreviewEgress = 'all' | EgressRule[];

export interface EgressRule {
  /** The entry as written (trimmed), for the rule's description. */
  entry: string;
  cidr: string;
  family: 'ipv4' | 'ipv6';
  /** TCP ports; absent: every protocol and port. */
  ports?: { from: number; to: number };
}

/** A security group holds 60 outbound rules by default. */
export const MAX_EGRESS_RULES = 50;

const RULE =
  'all, or comma-separated CIDR[:port] entries like 0.0.0.0/0:443, 10.0.0.0/16 or 203.0.113.7/32:5432, or a port range 10.0.0.0/8:8000-8999';

/** The address as a number, or undefined: IPv4 dotted quads, IPv6 in hex groups (no embedded IPv4). */
function addressBits(address: string, family: 'ipv4' | 'ipv6'): bigint | undefined {
  if (family === 'ipv4')
    return address.split('.').reduce((bits, part) => (bits << 8n) | BigInt(Number(part)), 0n);
  if (address.includes('.')) return undefined;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((bits, group) => (bits << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function parseEntry(entry: string): EgressRule | string {
  const slash = entry.lastIndexOf('/');
  const match = slash > 0 ? /^(\d{1,3})(?::(\d{1,5})(?:-(\d{1,5}))?)?$/.exec(entry.slice(slash + 1)) : null;
  if (!match) return `${JSON.stringify(entry)} is not a CIDR[:port] entry`;
  const address = entry.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const size = family === 'ipv4' ? 32 : 128;
  const bits = family && addressBits(address, family);
  if (!family || bits === undefined)
    return `${JSON.stringify(entry)}: ${JSON.stringify(address)} is not an IPv4 or IPv6 address`;
  const length = Number(match[1]);
  if (length > size) return `${JSON.stringify(entry)}: a ${family} prefix length is 0 to ${size}`;
  const hostBits = BigInt(size - length);
  if (bits & ((1n << hostBits) - 1n))
    return `${JSON.stringify(entry)} has host bits set after /${length}: give the network's first address`;
  const cidr = `${address}/${length}`;
  if (match[2] === undefined) return { entry, cidr, family };
  const from = Number(match[2]);
  const to = match[3] === undefined ? from : Number(match[3]);
  if (from < 1 || to > 65535 || from > to)
    return `${JSON.stringify(entry)}: ports are 1 to 65535, a range low-high`;
  return { entry, cidr, family, ports: { from, to } };
}

/** Reads MATINEE_PREVIEW_EGRESS; each problem names the entry. */
export function parsePreviewEgress(raw: string | undefined): { egress: PreviewEgress; problems: string[] } {
  const value = raw?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'all') return { egress: 'all', problems: [] };
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const problems: string[] = [];
  const rules: EgressRule[] = [];
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') problems.push(`MATINEE_PREVIEW_EGRESS: ${parsed} (${RULE})`);
    else rules.push(parsed);
  }
  if (problems.length) return { egress: rules, problems };
  const keys = rules.map((r) => `${r.cidr}:${r.ports ? `${r.ports.from}-${r.ports.to}` : 'all'}`);
  const twice = rules.find((_, i) => keys.indexOf(keys[i] as string) !== i);
  if (twice) problems.push(`MATINEE_PREVIEW_EGRESS lists ${JSON.stringify(twice.entry)} twice`);
  if (rules.length > MAX_EGRESS_RULES)
    problems.push(
      `MATINEE_PREVIEW_EGRESS has ${rules.length} entries; at most ${MAX_EGRESS_RULES} (a security group holds 60 outbound rules)`,
    );
  if (!rules.some((r) => !r.ports || (r.ports.from <= 443 && r.ports.to >= 443)))
    problems.push(
      'MATINEE_PREVIEW_EGRESS allows no HTTPS (port 443): previews could not pull their images or write their logs; add 0.0.0.0/0:443 (or your VPC endpoints)',
    );
  return { egress: rules, problems };
}
