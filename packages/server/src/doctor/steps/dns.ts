import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type DoctorStep, fail, withTimeout } from './step.js';

/** dns: the URL's host name resolves (an address is taken as is); the first address is kept. */
export const dnsStep: DoctorStep = {
  name: 'dns',
  async run(context) {
    const { url, timeoutMs } = context;
    // An IPv6 host keeps its brackets in URL.hostname.
    if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
      context.address = url.hostname.replace(/^\[|\]$/g, '');
      return { status: 'ok', detail: `${url.hostname} is an address` };
    }
    try {
      const found = await withTimeout(lookup(url.hostname, { all: true }), timeoutMs, 'DNS');
      context.address = found[0]!.address;
      return {
        status: 'ok',
        detail: `${url.hostname} → ${found.map((a) => a.address).join(', ')}`,
      };
    } catch (error) {
      return fail(
        `cannot resolve ${url.hostname}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        'the name does not resolve from this machine',
        'check the URL, or DNS / /etc/hosts',
      );
    }
  },
};
