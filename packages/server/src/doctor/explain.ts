/** A connect error of the protocol, explained: what it means and what to do. */
export interface Explanation {
  cause: string;
  fix: string;
}

const REDIRECT: Explanation = {
  cause:
    "the realtime server's request to the web server was redirected (e.g. HTTP to HTTPS); a redirect drops the cookie, so upstream servers see every user as Guest",
  fix: 'point the backchannel at an address that answers directly: herald serve --backend http://<web-server>:8000 (upstream: webserver_host/webserver_port)',
};
const TIMEOUT: Explanation = {
  cause: 'the web server did not answer the realtime server in time',
  fix: 'check that the web server (gunicorn) runs and --backend points at it; raise --backend-timeout if it is just slow',
};
const UNREACHABLE: Explanation = {
  cause: 'the realtime server cannot reach the web server',
  fix: 'set --backend to an address the realtime server can reach (not the public URL when it loops back through NAT or a proxy)',
};
const SECRET: Explanation = {
  cause: 'the realtime server cannot read the socket secret from Redis',
  fix: 'check that Redis (redis_queue) is running and that --redis points at it',
};

/**
 * Herald's refusals, by the code it sends beside the message (its messages name no URL: the
 * server's log, or the doctor with --admin-token, has them).
 */
const BY_CODE: Record<string, Explanation> = {
  HERALD_BACKEND_REDIRECT: REDIRECT,
  HERALD_BACKEND_TIMEOUT: TIMEOUT,
  HERALD_BACKEND_UNREACHABLE: UNREACHABLE,
  HERALD_SECRET_UNAVAILABLE: SECRET,
  HERALD_BACKEND_NOT_ALLOWED: {
    cause:
      "the realtime server has no --backend, and derives its backchannel from a client's Origin only when that is a loopback origin (localhost, *.localhost, 127.0.0.0/8, ::1) or a host listed with --backend-origin-host",
    fix: 'start the realtime server with --backend http://<web-server>:8000 (or list the host with --backend-origin-host)',
  },
  HERALD_SITE_NAME_INVALID: {
    cause:
      'the site the server resolved (from X-Frappe-Site-Name, default_site, the Origin or the Host) is not a host name',
    fix: "connect with the site's host name (letters, digits, hyphens, underscores and dots, e.g. erp.example.com); check the proxy's X-Frappe-Site-Name and default_site",
  },
};

/**
 * Explains a CONNECT_ERROR of a Frappe realtime server (Herald's or upstream's): by Herald's code
 * when it sent one, else by the message.
 */
export function explainConnectError(message: string, site: string, code?: string): Explanation {
  const known = code === undefined ? undefined : BY_CODE[code];
  if (known) return known;
  if (message === 'Invalid origin') {
    return {
      cause: "the server compared the request's Host with its Origin and they differ",
      fix: 'a proxy in front of the realtime server must forward both: proxy_set_header Origin $scheme://$http_host; proxy_set_header Host $host; (or add the origin with --allowed-origin)',
    };
  }
  if (message === 'Invalid namespace') {
    return {
      cause: `the server resolved another site than "${site}" for this connection (from X-Frappe-Site-Name, default_site, the Origin or the Host)`,
      fix: `connect to the namespace of the site the server resolves; check --site, the proxy's X-Frappe-Site-Name (believed only from trusted proxies) and default_site`,
    };
  }
  if (message.startsWith('Missing cookie') || message.startsWith('No authentication method')) {
    return {
      cause: 'no credentials reached the server',
      fix: 'give --sid, --token or --login/--password; behind a proxy, make sure it forwards Cookie and Authorization',
    };
  }
  if (message.includes('redirected')) return REDIRECT;
  if (message.includes('did not answer within')) return TIMEOUT;
  if (message.includes('unreachable')) return UNREACHABLE;
  if (message.includes('socketio_auth_secret')) return SECRET;
  if (message.startsWith('Unauthorized')) {
    return {
      cause:
        'the web server did not accept the session (an empty get_user_info answer means a wrong X-Frappe-Socket-Secret)',
      fix: 'check the credentials; make sure the realtime server and the web server share the Redis that holds socketio_auth_secret',
    };
  }
  return {
    cause: `the server refused the connection: ${message}`,
    fix: 'see the realtime server log for this connection',
  };
}
