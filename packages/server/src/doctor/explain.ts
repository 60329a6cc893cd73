/** A connect error of the protocol, explained: what it means and what to do. */
export interface Explanation {
  cause: string;
  fix: string;
}

/** Explains a CONNECT_ERROR message of a Frappe realtime server (Herald's or upstream's). */
export function explainConnectError(message: string, site: string): Explanation {
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
  if (message.includes('redirected')) {
    return {
      cause:
        "the realtime server's request to the web server was redirected (e.g. HTTP to HTTPS); a redirect drops the cookie, so upstream servers see every user as Guest",
      fix: 'point the backchannel at an address that answers directly: herald serve --backend http://<web-server>:8000 (upstream: webserver_host/webserver_port)',
    };
  }
  if (message.includes('did not answer within')) {
    return {
      cause: 'the web server did not answer the realtime server in time',
      fix: 'check that the web server (gunicorn) runs and --backend points at it; raise --backend-timeout if it is just slow',
    };
  }
  if (message.includes('unreachable')) {
    return {
      cause: 'the realtime server cannot reach the web server',
      fix: 'set --backend to an address the realtime server can reach (not the public URL when it loops back through NAT or a proxy)',
    };
  }
  if (message.includes('socketio_auth_secret')) {
    return {
      cause: 'the realtime server cannot read the socket secret from Redis',
      fix: 'check that Redis (redis_queue) is running and that --redis points at it',
    };
  }
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
