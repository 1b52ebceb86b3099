import { OutboundHostNotAllowedError } from '../tools.errors';
import {
  addressAllowed,
  checkHostAllowed,
  isMetadataAddress,
  isPublicAddress,
} from './outbound-policy';

const allowed = (host: string, list: string[]) => {
  try {
    checkHostAllowed(host, list);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundHostNotAllowedError);
    return false;
  }
};

describe('checkHostAllowed', () => {
  it('allows an exact host, case-insensitively and ignoring a trailing dot on either side', () => {
    expect(allowed('api.example.com', ['api.example.com'])).toBe(true);
    expect(allowed('API.Example.COM', ['api.example.com'])).toBe(true);
    expect(allowed('api.example.com.', ['api.example.com'])).toBe(true);
    expect(allowed('api.example.com', ['Api.Example.com.'])).toBe(true);
  });

  it('does not treat an exact entry as covering its subdomains or look-alikes', () => {
    expect(allowed('x.api.example.com', ['api.example.com'])).toBe(false);
    expect(allowed('api.example.com.evil.test', ['api.example.com'])).toBe(false);
    expect(allowed('evilapi.example.com', ['api.example.com'])).toBe(false);
  });

  it('lets "*.domain" match subdomains at any depth but not the domain itself', () => {
    const list = ['*.example.com'];
    expect(allowed('a.example.com', list)).toBe(true);
    expect(allowed('b.a.example.com', list)).toBe(true);
    expect(allowed('A.EXAMPLE.COM.', list)).toBe(true);
    expect(allowed('example.com', list)).toBe(false);
    expect(allowed('badexample.com', list)).toBe(false);
    expect(allowed('a.example.com.evil.test', list)).toBe(false);
  });

  it('allows nothing with an empty list, a bare "*" or a malformed wildcard', () => {
    expect(allowed('api.example.com', [])).toBe(false);
    expect(allowed('api.example.com', ['*'])).toBe(false);
    expect(allowed('api.example.com', ['api.*.com'])).toBe(false);
    expect(allowed('api.example.com', ['*example.com'])).toBe(false);
    expect(allowed('', ['*.example.com'])).toBe(false);
  });

  it('matches IP literals exactly (with or without IPv6 brackets), never by wildcard', () => {
    expect(allowed('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(allowed('[::1]', ['::1'])).toBe(true);
    expect(allowed('::1', ['[::1]'])).toBe(true);
    expect(allowed('[::ffff:a9fe:a9fe]', ['::ffff:169.254.169.254'])).toBe(true);
    expect(allowed('2001:DB8:0:0::1', ['2001:db8::1'])).toBe(true);
    expect(allowed('127.0.0.1', ['*.0.0.1'])).toBe(false);
  });

  it('compares a Unicode entry with the punycode form URLs carry', () => {
    const host = new URL('https://bücher.example/').hostname;
    expect(host).toBe('xn--bcher-kva.example');
    expect(allowed(host, ['bücher.example'])).toBe(true);
    expect(allowed(`shop.${host}`, ['*.bücher.example'])).toBe(true);
  });

  it('names the refused host in a message that says how to allow it', () => {
    expect(() => checkHostAllowed('intranet.corp', ['api.example.com'])).toThrow(
      expect.objectContaining({
        code: 'TOOL_HOST_NOT_ALLOWED',
        status: 422,
        message: expect.stringMatching(/"intranet\.corp".*allowedHosts/),
      }),
    );
  });
});

describe('isPublicAddress', () => {
  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2a00:1450:4001::1'])(
    '%s is public',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback /8'],
    ['::1', 'IPv6 loopback'],
    ['[::1]', 'bracketed IPv6 loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'IPv6 link-local'],
    ['fd00:ec2::254', 'unique-local (AWS IPv6 metadata)'],
    ['fc00::1', 'unique-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'IPv6 unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'IPv6 multicast'],
    ['255.255.255.255', 'broadcast'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['192.0.2.1', 'reserved (TEST-NET-1)'],
    ['198.18.0.1', 'benchmarking'],
    ['240.0.0.1', 'reserved (class E)'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-compatible loopback (deprecated)'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['fec0::1', 'deprecated site-local'],
  ])('%s is not public (%s)', (address) => expect(isPublicAddress(address)).toBe(false));

  it('judges an IPv4-mapped public address as the address it carries', () => {
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true);
  });

  it.each(['', 'localhost', 'example.com', '127.1', '0x7f000001', '2130706433', '1.2.3.4.5'])(
    'fails closed on %j, which is not a canonical IP address',
    (address) => expect(isPublicAddress(address)).toBe(false),
  );
});

describe('cloud metadata endpoints', () => {
  const open = { allowedHosts: [], allowPrivateNetworks: true };
  it('stay refused even where private networks are allowed', () => {
    for (const address of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      'fd00:ec2::254',
      '100.100.100.200',
    ])
      expect({ address, allowed: addressAllowed(address, open) }).toEqual({
        address,
        allowed: false,
      });
    expect(addressAllowed('10.0.0.5', open)).toBe(true);
    expect(addressAllowed('10.0.0.5', { ...open, allowPrivateNetworks: false })).toBe(false);
    expect(isMetadataAddress('8.8.8.8')).toBe(false);
  });
});
