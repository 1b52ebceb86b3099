import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import { OutboundHostNotAllowedError } from '../tools.errors';

/** Where a tenant's tools may send HTTP requests. */
export interface OutboundPolicy {
  /** Exact hostnames (`api.example.com`) or wildcard subdomains (`*.example.com`). */
  allowedHosts: string[];
  /**
   * Lets tools reach loopback, private, link-local (cloud metadata included) and other
   * non-public addresses. For single-tenant or on-premises installs and tests only.
   */
  allowPrivateNetworks: boolean;
}

/** IANA's global unicast block; IPv6 outside it is reserved, local or special-purpose. */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/** Lowercase, no trailing dot, no IPv6 brackets: the form both sides are compared in. */
function normalizeHost(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  // URLs carry IDNs as punycode; an entry typed as Unicode must compare in the same form.
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) name = domainToASCII(name);
  // IPv6 has many spellings (URLs write ::ffff:a9fe:a9fe for ::ffff:169.254.169.254).
  if (isIP(name) === 6) name = ipaddr.parse(name).toString();
  return name;
}

function matchesEntry(host: string, rawEntry: string): boolean {
  const entry = rawEntry.trim();
  if (entry.startsWith('*.')) {
    const suffix = normalizeHost(entry.slice(2));
    // A wildcard names subdomains of a domain; it never matches an IP literal or a bare "*".
    if (!suffix || suffix.includes('*') || isIP(host)) return false;
    return host.endsWith(`.${suffix}`);
  }
  const exact = normalizeHost(entry);
  return exact !== '' && !exact.includes('*') && exact === host;
}

/** Throws unless `hostname` is on the allowlist; an empty allowlist allows nothing. */
export function checkHostAllowed(hostname: string, allowedHosts: string[]): void {
  const host = normalizeHost(hostname);
  if (host === '' || !allowedHosts.some((entry) => matchesEntry(host, entry))) {
    throw new OutboundHostNotAllowedError(hostname);
  }
}

/**
 * Whether an IP address is on the public internet. Anything ipaddr.js puts in a special range
 * (loopback, private, link-local, CGNAT, multicast, reserved, 6to4, Teredo, NAT64…) is refused by
 * allowing only 'unicast', so a range we forgot to list fails closed. IPv4-mapped IPv6 is judged
 * as the IPv4 address it carries; a string that is not an IP address is not public.
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // net.isIP is strict (no "127.1" or hex forms), so only canonical addresses get this far.
  if (!isIP(bare)) return false;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(bare);
  } catch {
    return false;
  }
  if (parsed.range() !== 'unicast') return false;
  // ipaddr.js calls e.g. IPv4-compatible ::7f00:1 'unicast'; only 2000::/3 is really global.
  return parsed.kind() === 'ipv4' || parsed.match(IPV6_GLOBAL_UNICAST);
}

/**
 * Cloud instance-metadata endpoints (AWS, GCP, Azure, OCI at 169.254.169.254; AWS's IPv6
 * fd00:ec2::254; Alibaba's 100.100.100.200). They hand out credentials, so no tool may reach
 * them, even where an operator allows private networks for on-premises APIs.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

export function isMetadataAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return METADATA_ADDRESSES.has(parsed.toString());
}

/** Whether a tool may connect to `address` under `policy`. */
export function addressAllowed(address: string, policy: OutboundPolicy): boolean {
  if (isMetadataAddress(address)) return false;
  return policy.allowPrivateNetworks || isPublicAddress(address);
}
