import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

// [network, prefix length] of IPv4 ranges a workflow must not reach by default.
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];

const v4ToInt = (ip: string): number => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
const BLOCKED_V4_INT = BLOCKED_V4.map(([net, bits]) => {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (v4ToInt(net) & mask) >>> 0, mask };
});

function isBlockedV4(ip: string): boolean {
  const n = v4ToInt(ip);
  return BLOCKED_V4_INT.some(({ base, mask }) => ((n & mask) >>> 0) === base);
}

/** The 16 bytes of an IPv6 address (zone id dropped, trailing dotted IPv4 allowed). */
function v6Bytes(ip: string): number[] {
  let text = ip.split('%')[0] ?? '';
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    tail.push(...dotted[1].split('.').map(Number));
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function isBlockedV6(ip: string): boolean {
  const b = v6Bytes(ip);
  const embedded = (from: number): string => b.slice(from, from + 4).join('.');
  const zeros = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 16)) return true; // ::
  if (zeros(0, 15) && b[15] === 1) return true; // ::1
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return isBlockedV4(embedded(12)); // IPv4-mapped
  if (zeros(0, 12)) return isBlockedV4(embedded(12)); // IPv4-compatible (deprecated)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return isBlockedV4(embedded(12)); // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return isBlockedV4(embedded(2)); // 6to4
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return true; // Teredo hides the real address
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return true; // documentation
  if (b[0] === 0x01 && b[1] === 0x00 && zeros(2, 8)) return true; // discard prefix
  const first = b[0] ?? 0;
  const second = b[1] ?? 0;
  if ((first & 0xfe) === 0xfc) return true; // unique local fc00::/7
  if (first === 0xfe && (second & 0xc0) === 0x80) return true; // link-local fe80::/10
  if (first === 0xfe && (second & 0xc0) === 0xc0) return true; // site-local fec0::/10 (deprecated)
  return first === 0xff; // multicast
}

/**
 * True when an IP address is not a public unicast address: private, loopback, link-local
 * (including cloud metadata at 169.254.169.254), carrier-grade NAT, unique-local IPv6, multicast,
 * reserved, documentation, and IPv6 forms that embed such an IPv4 address. Anything that is not an
 * IP address counts as blocked.
 *
 * Pure.
 *
 * @example
 * isBlockedAddress('10.1.2.3') // true
 * isBlockedAddress('::ffff:127.0.0.1') // true
 * isBlockedAddress('93.184.216.34') // false
 */
export function isBlockedAddress(ip: string): boolean {
  const version = isIP(ip.split('%')[0] ?? '');
  if (version === 4) return isBlockedV4(ip);
  if (version === 6) return isBlockedV6(ip);
  return true;
}

/** Why a URL may not be requested. */
export interface UrlRefusal {
  code: 'invalid_url' | 'unsupported_scheme' | 'blocked_address' | 'dns_failed';
  message: string;
}

/**
 * Resolves a host name to every address it has (IPv4 and IPv6, in the resolver's order).
 * Rejects when the name does not resolve.
 */
export type ResolveHost = (host: string) => Promise<string[]>;

/**
 * What the address guard depends on. Both default to the real thing: `resolve` to the system
 * resolver (`dns.lookup`, all addresses), `isBlocked` to {@link isBlockedAddress}.
 */
export interface AddressGuardOptions {
  /** Resolves host names, for the check before a request and again when it connects. */
  resolve?: ResolveHost;
  /** True for an address the request must not reach. */
  isBlocked?: (address: string) => boolean;
}

/** The system resolver: every address of `host`, in the order the system gives them. */
export const resolveWithSystem: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves a host (an IP literal stands for itself) and refuses it when it has no address or any
 * of its addresses is blocked. Refusing when any address is private, not only the first, defeats
 * hosts that list a public and a private address.
 *
 * @returns the addresses, all allowed, or why the host is refused (`blocked_address`, `dns_failed`).
 */
export async function checkHost(host: string, options: AddressGuardOptions = {}): Promise<{ addresses: string[] } | { refusal: UrlRefusal }> {
  const { resolve = resolveWithSystem, isBlocked = isBlockedAddress } = options;
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { refusal: { code: 'dns_failed', message: `could not resolve ${host}: ${(err as Error).message}` } };
    }
  }
  const blocked = addresses.find(isBlocked);
  if (blocked !== undefined || addresses.length === 0) {
    return {
      refusal: {
        code: 'blocked_address',
        message: `${host} resolves to ${blocked ?? 'nothing'}, a private or reserved address; a workspace admin can allow private networks`,
      },
    };
  }
  return { addresses };
}

/**
 * Checks that a URL may be requested: http or https, no credentials in it, and (unless private
 * networks are allowed) a host whose every resolved address is public (see {@link checkHost}).
 *
 * This check alone does not stop DNS rebinding (fetch resolves the host again when it connects), so
 * requests also connect through `createPinnedDispatcher` (pinned-dispatcher.ts), whose lookup
 * repeats {@link checkHost} and hands the socket only addresses that passed it.
 */
export async function checkUrl(
  raw: string,
  allowPrivateNetwork: boolean,
  options: AddressGuardOptions = {},
): Promise<{ url: URL } | { refusal: UrlRefusal }> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { refusal: { code: 'invalid_url', message: `"${raw}" is not a valid URL` } };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { refusal: { code: 'unsupported_scheme', message: `only http and https URLs can be requested, not ${url.protocol}` } };
  }
  if (url.username || url.password) {
    return { refusal: { code: 'invalid_url', message: 'put credentials in a header, not in the URL' } };
  }
  if (allowPrivateNetwork) return { url };
  const checked = await checkHost(url.hostname.replace(/^\[|\]$/g, ''), options);
  return 'refusal' in checked ? checked : { url };
}
