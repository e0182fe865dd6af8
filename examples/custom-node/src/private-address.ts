import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isBlockedAddress } from '@convoflow/nodes';

/**
 * Why a host may not be called, or `undefined` when it may. Unless the workspace allows private
 * networks, a host that resolves to a private, loopback or link-local address is refused, like the
 * built-in HTTP request node does: a flow author must not be able to reach the server's network.
 */
export async function refusePrivateHost(url: URL, allowPrivateNetwork: boolean): Promise<string | undefined> {
  if (allowPrivateNetwork) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    return `could not resolve ${host}: ${(err as Error).message}`;
  }
  const blocked = addresses.find(isBlockedAddress);
  return blocked === undefined ? undefined : `${host} resolves to ${blocked}, a private address; the workspace does not allow private networks`;
}
