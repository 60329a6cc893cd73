import type { Whoami } from './context.js';
import { type DoctorStep, fail } from './step.js';

/**
 * identity (Herald only): herald_whoami says who the server takes this socket for and its rooms;
 * credentials that end up as Guest fail here.
 */
export const identityStep: DoctorStep = {
  name: 'identity',
  async run(context) {
    const { socket, options, timeoutMs } = context;
    let who: Whoami | undefined;
    try {
      who = (await socket!.timeout(Math.min(timeoutMs, 3000)).emitWithAck('herald_whoami')) as
        | Whoami
        | undefined;
    } catch {
      // Another realtime server does not answer herald_whoami: the step is skipped, not failed.
      who = undefined;
    }
    if (!who?.user) {
      return {
        status: 'skip',
        detail: 'not a Herald server: the user and rooms cannot be asked (Herald-only step)',
      };
    }
    context.who = who;
    const credentialsGiven = Boolean(options.sid || options.token || options.login);
    if (credentialsGiven && who.user === 'Guest') {
      return fail(
        'credentials were given, but the server sees this socket as Guest',
        'the session was not recognised by the web server: it expired, or the web server received no cookie (a redirect on the way drops it)',
        'log in again; then check get_user_info on the web server with the same cookie, from the realtime server',
      );
    }
    return {
      status: 'ok',
      detail: `${who.user} (${who.userType}), rooms: ${(who.rooms ?? []).join(', ')}`,
    };
  },
};
