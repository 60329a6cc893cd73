import { connect } from 'node:tls';
import { type DoctorStep, fail, withTimeout } from './step.js';

/** tls: for https, the handshake succeeds with a certificate valid for the host name. */
export const tlsStep: DoctorStep = {
  name: 'tls',
  async run({ url, port, address, timeoutMs }) {
    if (url.protocol !== 'https:') return { status: 'skip', detail: 'plain http' };
    const detail = await withTimeout(
      new Promise<string>((resolve, reject) => {
        // The resolved address, with the host name for SNI and the certificate check.
        const socket = connect({ host: address, port, servername: url.hostname }, () => {
          const cert = socket.getPeerCertificate();
          socket.destroy();
          resolve(
            `certificate for ${cert.subject?.CN ?? url.hostname}, valid until ${cert.valid_to}`,
          );
        });
        socket.on('error', reject);
      }),
      timeoutMs,
      'TLS handshake',
    ).catch((error: NodeJS.ErrnoException) =>
      fail(
        `TLS failed: ${error.code ?? error.message}`,
        'the certificate is not valid for this name, expired or self-signed',
        'renew or fix the certificate of the proxy',
      ),
    );
    return { status: 'ok', detail };
  },
};
