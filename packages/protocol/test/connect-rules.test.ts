import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backchannelBase,
  checkConnect,
  credentialHeader,
  findCredentials,
  hostnameOf,
  resolveSite,
} from '@herald/protocol';
import { loadVectors } from '@herald/testkit';

type Headers = Record<string, string>;
interface ConnectVectors {
  hostname: { in: string; out: string }[];
  site: {
    name: string;
    trusted_proxy: boolean;
    headers: Headers;
    config: { default_site?: string };
    site: string;
  }[];
  connect: { name: string; namespace: string; headers: Headers; error: string | null }[];
  backchannel_header: { name: string; headers: Headers; sends: Headers; does_not_send: string[] }[];
  backchannel_url: {
    name: string;
    config: {
      backend_url?: string;
      webserver_host?: string;
      webserver_port?: number;
      developer_mode?: number;
    };
    origin: string;
    base: string;
  }[];
}

const vectors = loadVectors<ConnectVectors>('connect-rules.json');

describe('hostname of a header value', () => {
  for (const v of vectors.hostname) {
    test(`${v.in} -> ${v.out}`, () => assert.equal(hostnameOf(v.in), v.out));
  }
});

describe('site resolution', () => {
  for (const v of vectors.site) {
    test(v.name, () => {
      const site = resolveSite(v.headers, {
        trustedProxy: v.trusted_proxy,
        defaultSite: v.config.default_site,
      });
      assert.equal(site, v.site);
    });
  }
});

describe('connect checks', () => {
  for (const v of vectors.connect) {
    test(v.name, () => {
      const result = checkConnect({
        namespace: v.namespace,
        headers: v.headers,
        trustedProxy: false,
      });
      assert.equal(result.ok ? null : result.error, v.error);
    });
  }

  test('an extra allowed origin passes the origin check', () => {
    const headers = { host: 'erp.example.com', origin: 'https://app.example.org', cookie: 'sid=a' };
    const denied = checkConnect({ namespace: '/erp.example.com', headers, trustedProxy: false });
    assert.equal(denied.ok ? null : denied.error, 'Invalid origin');
    const allowed = checkConnect({
      namespace: '/erp.example.com',
      headers,
      trustedProxy: false,
      allowedOrigins: ['https://app.example.org/'],
    });
    assert.equal(allowed.ok, true);
  });
});

describe('backchannel credential header', () => {
  for (const v of vectors.backchannel_header) {
    test(v.name, () => {
      const found = findCredentials(v.headers);
      assert.ok(found.ok);
      const sent = credentialHeader(found.credentials);
      assert.deepEqual(sent, v.sends);
      for (const name of v.does_not_send) assert.equal(name in sent, false);
    });
  }
});

describe('backchannel base URL', () => {
  for (const v of vectors.backchannel_url) {
    test(v.name, () => {
      const base = backchannelBase(
        {
          backendUrl: v.config.backend_url,
          webserverHost: v.config.webserver_host,
          webserverPort: v.config.webserver_port,
          developerMode: v.config.developer_mode,
        },
        v.origin,
      );
      assert.equal(base, v.base);
    });
  }

  test('no origin falls back to the Host header', () => {
    assert.equal(
      backchannelBase({}, undefined, 'erp.example.com:8000'),
      'http://erp.example.com:8000',
    );
  });
});
