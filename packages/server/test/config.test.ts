import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HeraldError, loadConfig } from '@herald/server';

function bench(config: object, common: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  mkdirSync(join(dir, 'sites'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'sites', 'common_site_config.json'), JSON.stringify(common));
  return dir;
}

function configFile(content: object | string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'herald-config-')), 'herald.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const invalid = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof HeraldError);
    assert.equal(error.code, 'HERALD_CONFIG_INVALID');
    return error.message;
  }
  assert.fail('expected the configuration to be refused');
};

describe('configuration', () => {
  test('embedded defaults: port 9000, no Redis (the in-memory broker), loopback proxies trusted', () => {
    const { config } = loadConfig();
    assert.equal(config.port, 9000);
    assert.equal(config.redis, undefined);
    assert.deepEqual(config.trustedProxies, ['127.0.0.0/8', '::1/128']);
    assert.equal(config.backendTimeoutMs, 5000);
    assert.equal(config.logLevel, 'info');
  });

  test('a Frappe bench: common_site_config.json overrides config.json, falsy values included', () => {
    const dir = bench(
      { socketio_port: 9001, developer_mode: 1, redis_queue: 'redis://127.0.0.1:11000' },
      { developer_mode: 0, default_site: 'dev.localhost', webserver_port: 8000 },
    );
    const { config, sources } = loadConfig({ flags: { bench: dir } });
    assert.equal(config.port, 9001);
    assert.equal(
      config.developerMode,
      false,
      'a 0 overrides a 1 (upstream copied only truthy values)',
    );
    assert.equal(config.defaultSite, 'dev.localhost');
    assert.equal(config.webserverPort, 8000);
    assert.equal(config.redis, 'redis://127.0.0.1:11000');
    assert.equal(sources.port, `bench ${dir}`);
  });

  test("a bench without redis_queue uses upstream's default Redis", () => {
    const { config } = loadConfig({ flags: { bench: bench({}, {}) } });
    assert.equal(config.redis, 'redis://127.0.0.1:11311');
  });

  test('precedence: flags > environment > config file > bench', () => {
    const dir = bench({ socketio_port: 9001, default_site: 'bench.site' }, {});
    const file = configFile({ port: 9002, defaultSite: 'file.site', backend: 'http://file:8000' });
    const env = { HERALD_PORT: '9003', FRAPPE_SITE: 'env.site', FRAPPE_SOCKETIO_PORT: '9999' };
    const { config, sources } = loadConfig({
      flags: { bench: dir, config: file, port: '9004' },
      env,
    });
    assert.equal(config.port, 9004);
    assert.equal(sources.port, 'flag --port');
    assert.equal(config.defaultSite, 'env.site');
    assert.equal(sources.defaultSite, 'environment FRAPPE_SITE');
    assert.equal(config.backend, 'http://file:8000');

    const withoutFlag = loadConfig({ flags: { bench: dir, config: file }, env });
    assert.equal(
      withoutFlag.config.port,
      9003,
      'HERALD_PORT beats FRAPPE_SOCKETIO_PORT and the file',
    );
    const withoutEnv = loadConfig({ flags: { bench: dir, config: file } });
    assert.equal(withoutEnv.config.port, 9002);
  });

  test('lists from the environment are split on commas and spaces', () => {
    const { config } = loadConfig({
      env: {
        HERALD_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7',
        HERALD_ALLOWED_ORIGINS: 'https://a.example https://b.example',
      },
    });
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '192.168.1.7']);
    assert.deepEqual(config.allowedOrigins, ['https://a.example', 'https://b.example']);
  });

  test('a bad value names the key, the value, where it came from and what is allowed', () => {
    const message = invalid(() =>
      loadConfig({ flags: { port: '90000' }, env: { HERALD_LOG_LEVEL: 'loud' } }),
    );
    assert.match(
      message,
      /port = "90000" \(from flag --port\): expected a whole number from 0 to 65535/,
    );
    assert.match(
      message,
      /logLevel = "loud" \(from environment HERALD_LOG_LEVEL\): expected one of fatal, error, warn, info, debug, trace, silent/,
    );
  });

  test('bad URLs, CIDRs and origins are refused', () => {
    const message = invalid(() =>
      loadConfig({
        flags: {
          redis: 'localhost:6379',
          backend: 'ftp://x',
          trustedProxies: ['10.0.0.0/33'],
          allowedOrigins: ['nope'],
        },
      }),
    );
    assert.match(message, /redis = "localhost:6379" .*redis:\/\//);
    assert.match(message, /backend = "ftp:\/\/x" .*http:\/\//);
    assert.match(message, /trustedProxies = \["10.0.0.0\/33"\] .*CIDR/);
    assert.match(message, /allowedOrigins = \["nope"\] .*origin/);
  });

  test('an unknown key in the config file is named, with the known ones', () => {
    const file = configFile({ prot: 9000 });
    const message = invalid(() => loadConfig({ flags: { config: file } }));
    assert.match(
      message,
      /unknown setting "prot" in config file .*herald\.json; known settings: port, host/,
    );
  });

  test('unreadable or non-JSON files and a missing bench are clear errors', () => {
    assert.match(
      invalid(() => loadConfig({ flags: { config: '/nonexistent/herald.json' } })),
      /cannot read config file \/nonexistent\/herald\.json/,
    );
    assert.match(
      invalid(() => loadConfig({ flags: { config: configFile('{port: 1') } })),
      /is not a JSON object/,
    );
    assert.match(
      invalid(() => loadConfig({ flags: { bench: '/nonexistent/bench' } })),
      /bench = "\/nonexistent\/bench": no such directory/,
    );
  });
});
