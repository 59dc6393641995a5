import { isIP } from 'node:net';

/**
 * The address that connected to the load balancer, from the `X-Forwarded-For` it passed on. The ALB
 * (in its default `append` mode, which stacks/edge.ts sets explicitly) appends that address to whatever the
 * client sent, so only the LAST entry is the ALB's word: every entry before it is the client's to write.
 * Undefined when the last entry is not an IP address (with or without a port).
 */
export function albClientAddress(forwardedFor: string | undefined): string | undefined {
  const last = (forwardedFor ?? '').split(',').pop()?.trim() ?? '';
  // `preserve_client_port` would write `192.0.2.1:1234` or `[2001:db8::1]:1234`.
  const address = /^\[([^\]]+)\](?::\d+)?$/.exec(last)?.[1] ?? last.replace(/^([\d.]+):\d+$/, '$1');
  return isIP(address) ? address : undefined;
}
