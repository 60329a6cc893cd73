import { BlockList, isIPv4 } from 'node:net';
import { parseCidr } from '../config/schema.js';

/** How many peer addresses' answers are remembered (all are forgotten when it is reached). */
const REMEMBERED = 1024;

/** The peers whose X-Frappe-Site-Name header is believed (upstream believes anyone's). */
export class TrustedProxies {
  readonly #list = new BlockList();
  /**
   * Answers by peer address. Connections come from few addresses (the proxy's, in production), and
   * `BlockList.check` makes a SocketAddress on every call: about 2% of a connect's CPU.
   */
  readonly #answers = new Map<string, boolean>();

  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (cidr) this.#list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  /** Whether a peer address (as a socket reports it, IPv4-mapped or not) is trusted. */
  contains(address: string | undefined): boolean {
    if (!address) return false;
    const known = this.#answers.get(address);
    if (known !== undefined) return known;
    const plain =
      address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    const trusted = this.#list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
    if (this.#answers.size >= REMEMBERED) this.#answers.clear();
    this.#answers.set(address, trusted);
    return trusted;
  }
}
