import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { OutboundAddressRefusedError } from '../tools.errors';
import { addressAllowed, type OutboundPolicy } from './outbound-policy';

/** Resolves a hostname to every address it has. Swapped in tests to fake DNS answers. */
export type Resolve = (hostname: string) => Promise<string[]>;

export const systemResolve: Resolve = async (hostname) =>
  (await dns.lookup(hostname, { all: true, order: 'verbatim' })).map((entry) => entry.address);

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    hostname,
  });
}

/**
 * A `lookup` for http(s).request: the socket connects to exactly the addresses checked here, at
 * connect time, once per connection, so a DNS answer that changes between a check and the
 * connect (rebinding) cannot slip through. Any non-public address refuses the whole answer:
 * the socket may try each of them.
 */
export function checkedLookup(resolve: Resolve, policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    // Through a promise, so a resolver that throws synchronously still reaches the callback.
    Promise.resolve(hostname)
      .then(resolve)
      .then(
        (resolved) => {
          if (resolved.some((address) => !isIP(address))) {
            return callback(notFound(hostname), '');
          }
          if (!resolved.every((address) => addressAllowed(address, policy))) {
            return callback(new OutboundAddressRefusedError(hostname, false), '');
          }
          const family = options.family;
          const wanted =
            family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
          const addresses: LookupAddress[] = resolved
            .map((address) => ({ address, family: isIP(address) }))
            .filter((entry) => wanted === 0 || entry.family === wanted);
          if (addresses.length === 0) return callback(notFound(hostname), '');
          // net asks for `all` when it races address families (autoSelectFamily, the default).
          if (options.all) return callback(null, addresses);
          callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, ''),
      );
  };
}
