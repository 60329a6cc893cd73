import { explainConnectError } from '../explain.js';
import { type DoctorStep, fail } from './step.js';
import { withheld } from './withheld.js';

/** backend (Herald only): the realtime server's backchannel answers, as herald_whoami tells. */
export const backendStep: DoctorStep = {
  name: 'backend',
  async run({ who, options, site }) {
    if (!who?.backchannel) return { status: 'skip', detail: 'Herald-only step' };
    const check = who.backchannel;
    // The URL and the backend's words come only to a socket that presented --admin-token.
    const where = check.url ? ` at ${check.url}` : '';
    const more = check.url ? '' : withheld(options, check.ok ? 'its URL' : undefined);
    if (!check.ok) {
      const { cause, fix } = explainConnectError(
        `Unauthorized: ${check.detail ?? check.message ?? ''}`,
        site,
        check.code,
      );
      return fail(
        `the realtime server cannot use its backchannel${check.url ? ` to ${check.url}` : ''}: ${check.detail ?? `${check.message} (${check.code})`}${more}`,
        cause,
        fix,
      );
    }
    return {
      status: 'ok',
      detail: `the realtime server reaches the web server${where} (${check.ms} ms)${more}`,
    };
  },
};
