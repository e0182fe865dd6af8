import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { checkHost, type AddressGuardOptions, type UrlRefusal } from './address-guard.js';

/** The error a socket fails with when the connect-time lookup refuses its host. */
export class AddressRefusedError extends Error {
  /** The same refusal the check before the request gives. */
  readonly refusal: UrlRefusal;
  readonly code: UrlRefusal['code'];

  constructor(refusal: UrlRefusal) {
    super(refusal.message);
    this.name = 'AddressRefusedError';
    this.refusal = refusal;
    this.code = refusal.code;
  }
}

/** A dispatcher that connects only to checked addresses, and the last refusal of its lookup. */
export interface PinnedDispatcher {
  /** Pass as fetch's `dispatcher` init option; `destroy()` it once the response is read. */
  dispatcher: Agent;
  /**
   * Why the connect-time lookup last refused a host, if it did. fetch reports such a failure as
   * a generic "fetch failed" whose cause may be rewrapped on the way, so the refusal is kept here.
   */
  refusal(): UrlRefusal | undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * An undici dispatcher whose every connection resolves its host through the address guard (same
 * resolver, same rule as {@link checkHost}) and connects to exactly an address that passed: a host
 * cannot pass the check before the request with a public address and then be connected to at
 * 127.0.0.1 or 169.254.169.254 (DNS rebinding). Only the address is pinned: the URL, the Host
 * header and the TLS server name (SNI and the certificate check) stay the host name. IP literals
 * are not looked up by Node; the check before the request covers them.
 *
 * Not pure: the dispatcher opens sockets.
 *
 * @example
 * const pinned = createPinnedDispatcher({});
 * try {
 *   const res = await fetch(url, { dispatcher: pinned.dispatcher } as RequestInit);
 * } catch (err) {
 *   const refusal = pinned.refusal(); // set when the host resolved to a blocked address
 * } finally {
 *   await pinned.dispatcher.destroy();
 * }
 */
export function createPinnedDispatcher(guard: AddressGuardOptions): PinnedDispatcher {
  let refusal: UrlRefusal | undefined;
  // Node asks for one address, or for all of them (`all: true`, Happy Eyeballs): answer both.
  const lookup: LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    checkHost(hostname, guard).then(
      (checked) => {
        if ('refusal' in checked) {
          refusal = checked.refusal;
          return callback(new AddressRefusedError(checked.refusal), '');
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const answers = checked.addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => !family || a.family === family);
        const first = answers[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${family} address`);
          err.code = 'ENOTFOUND';
          return callback(err, '');
        }
        return options.all ? callback(null, answers) : callback(null, first.address, first.family);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), ''),
    );
  };
  return { dispatcher: new Agent({ connect: { lookup } }), refusal: () => refusal };
}
