import { BlockList, isIPv4 } from 'node:net';
import { parseCidr } from '../config/schema.js';

/** The peers whose X-Frappe-Site-Name header is believed (upstream believes anyone's). */
export class TrustedProxies {
  readonly #list = new BlockList();

  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (cidr) this.#list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  /** Whether a peer address (as a socket reports it, IPv4-mapped or not) is trusted. */
  contains(address: string | undefined): boolean {
    if (!address) return false;
    const plain =
      address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return this.#list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  }
}
