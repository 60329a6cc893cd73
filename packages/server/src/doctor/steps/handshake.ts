import { type DoctorStep, fail } from './step.js';

/** handshake: /socket.io answers an Engine.IO v4 open packet over polling, without a redirect. */
export const handshakeStep: DoctorStep = {
  name: 'handshake',
  async run({ base, timeoutMs }) {
    const target = `${base}/socket.io/?EIO=4&transport=polling`;
    let response: Response;
    try {
      response = await fetch(target, {
        headers: { origin: base },
        // Not followed: a redirect is a finding (the URL given is not the one to use).
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return fail(
        `no Engine.IO answer from ${target}: ${(error as Error).message}`,
        'the realtime endpoint does not answer',
        'check the proxy location /socket.io and the realtime server',
      );
    }
    const text = await response.text();
    if (response.status >= 300 && response.status < 400) {
      return fail(
        `${target} redirects to ${response.headers.get('location')}`,
        'the URL is not the canonical one',
        'run the doctor with the URL it redirects to',
      );
    }
    if (response.status === 404)
      return fail(
        `nothing answers /socket.io at ${base} (HTTP 404)`,
        'the proxy does not forward /socket.io to the realtime server',
        'add the location /socket.io block of the README to the proxy',
      );
    if (response.status >= 500)
      return fail(
        `HTTP ${response.status} from ${target}`,
        'the proxy could not reach the realtime server',
        'start the realtime server, and check the port the proxy forwards to',
      );
    const match = /^0(\{.*\})/.exec(text);
    if (response.status !== 200 || !match)
      return fail(
        `unexpected answer from ${target}: HTTP ${response.status} ${text.slice(0, 80)}`,
        'this is not a Socket.IO v4 server',
        'check that the URL reaches the realtime server',
      );
    const open = JSON.parse(match[1]!) as { sid: string; upgrades: string[] };
    return {
      status: 'ok',
      detail: `Engine.IO over polling (session ${open.sid.slice(0, 6)}…, upgrades: ${open.upgrades.join(', ') || 'none'})`,
    };
  },
};
