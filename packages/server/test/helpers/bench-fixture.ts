/**
 * A Frappe bench on disk, laid out as `bench init` and `bench setup procfile / supervisor /
 * systemd / nginx` leave it: the files have the shape bench's templates render (the blank lines
 * of their if-blocks included), written here from the facts of those templates.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchFixtureOptions {
  /** The bench folder's name, which is also bench's name for it (default frappe-bench). */
  name?: string;
  /** Site folders (default one site, site1.local). */
  sites?: string[];
  socketioPort?: number;
  webserverPort?: number;
  redisQueue?: string;
  /** Keys of common_site_config.json to set (undefined removes a key). */
  siteConfig?: Record<string, unknown>;
  /** What `bench setup production` left: supervisor (default), systemd, or nothing (development). */
  production?: 'supervisor' | 'systemd' | false;
  /** nginx: one server for every site by DNS name (default), or one server per site on ports. */
  nginx?: 'dns' | 'ports' | false;
  /** The Node.js binary bench found (`which node`). */
  node?: string;
}

function procfile(o: Required<Pick<BenchFixtureOptions, 'node' | 'webserverPort'>>): string {
  return `
redis_cache: redis-server config/redis_cache.conf
redis_queue: redis-server config/redis_queue.conf

web: bench serve --port ${o.webserverPort}

socketio: ${o.node} apps/frappe/socketio.js


watch: bench watch


schedule: bench schedule
worker:  bench worker 1>> logs/worker.log 2>> logs/worker.error.log

`;
}

function supervisorProgram(name: string, command: string, dir: string, log: string, extra = '') {
  return `[program:${name}]
command=${command}
priority=4
autostart=true
autorestart=true
stdout_logfile=${dir}/logs/${log}.log
stderr_logfile=${dir}/logs/${log}.error.log
${extra}user=frappe
directory=${dir}
startretries=10
`;
}

function supervisor(name: string, dir: string, node: string, webserverPort: number): string {
  const bench = '/usr/local/bin/bench';
  return `; Notes:
; priority=1 --> Lower priorities indicate programs that start first and shut down last
; killasgroup=true --> send kill signal to child processes too

; graceful timeout should always be lower than stopwaitsecs to avoid orphan gunicorn workers.
[program:${name}-frappe-web]
command=${dir}/env/bin/gunicorn -b 127.0.0.1:${webserverPort} -w 5 --max-requests 5000 --max-requests-jitter 500 -t 120 --graceful-timeout 30 frappe.app:application --preload
priority=4
autostart=true
autorestart=true
stdout_logfile=${dir}/logs/web.log
stderr_logfile=${dir}/logs/web.error.log
stopwaitsecs=40
killasgroup=true
user=frappe
directory=${dir}/sites
startretries=10

${supervisorProgram(`${name}-frappe-schedule`, `${bench} schedule`, dir, 'schedule').replace('priority=4', 'priority=3')}

${supervisorProgram(`${name}-frappe-short-worker`, `${bench} worker --queue short,default`, dir, 'worker', 'stopwaitsecs=360\n')}
${supervisorProgram(`${name}-frappe-long-worker`, `${bench} worker --queue long,default,short`, dir, 'worker', 'stopwaitsecs=1560\n')}



[program:${name}-redis-cache]
command=/usr/bin/redis-server ${dir}/config/redis_cache.conf
priority=1
autostart=true
autorestart=true
stdout_logfile=${dir}/logs/redis-cache.log
stderr_logfile=${dir}/logs/redis-cache.error.log
user=frappe
directory=${dir}/sites
startretries=10

[program:${name}-redis-queue]
command=/usr/bin/redis-server ${dir}/config/redis_queue.conf
priority=1
autostart=true
autorestart=true
stdout_logfile=${dir}/logs/redis-queue.log
stderr_logfile=${dir}/logs/redis-queue.error.log
user=frappe
directory=${dir}/sites
startretries=10


${supervisorProgram(`${name}-node-socketio`, `${node} ${dir}/apps/frappe/socketio.js`, dir, 'node-socketio')}

[group:${name}-web]
programs=${name}-frappe-web,${name}-node-socketio




[group:${name}-workers]
programs=${name}-frappe-schedule,${name}-frappe-short-worker,${name}-frappe-long-worker



[group:${name}-redis]
programs=${name}-redis-cache,${name}-redis-queue

`;
}

function systemdUnit(name: string, dir: string, node: string): string {
  return `[Unit]
After=${name}-frappe-web.service
Description="${name}-node-socketio"
PartOf=${name}-web.target

[Service]
User=frappe
Group=frappe
Restart=always
ExecStart=${node} ${dir}/apps/frappe/socketio.js
StandardOutput=file:${dir}/logs/node-socketio.log
StandardError=file:${dir}/logs/node-socketio.error.log
WorkingDirectory=${dir}
`;
}

/** The /socket.io location as bench's nginx template writes it. */
export function socketioLocation(name: string, siteName: string): string {
  return `	location /socket.io {
		proxy_http_version 1.1;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection "upgrade";
		proxy_set_header X-Frappe-Site-Name ${siteName};
		proxy_set_header Origin $scheme://$http_host;
		proxy_set_header Host $host;

		proxy_pass http://${name}-socketio-server;
	}`;
}

function serverBlock(name: string, dir: string, port: number, names: string[], siteName: string) {
  return `
server {
	listen ${port};
	listen [::]:${port};

	server_name
		${names.join('\n\t\t')}
		;

	root ${dir}/sites;

	proxy_buffer_size 128k;
	proxy_buffers 4 256k;
	proxy_busy_buffers_size 256k;

	add_header X-Frame-Options "SAMEORIGIN";
	add_header Strict-Transport-Security "max-age=63072000; includeSubDomains; preload";
	add_header X-Content-Type-Options nosniff;
	add_header X-XSS-Protection "1; mode=block";
	add_header Referrer-Policy "same-origin, strict-origin-when-cross-origin";

	location /assets {
		try_files $uri =404;
		add_header Cache-Control "max-age=31536000";
	}

	location ~ ^/protected/(.*) {
		internal;
		try_files /${siteName}/$1 =404;
	}

${socketioLocation(name, siteName)}

	location / {

 		rewrite ^(.+)/$ $1 permanent;
  		rewrite ^(.+)/index\\.html$ $1 permanent;
  		rewrite ^(.+)\\.html$ $1 permanent;

		location ~* ^/files/.*.(htm|html|svg|xml) {
			add_header Content-disposition "attachment";
			try_files /${siteName}/public/$uri @webserver;
		}

		try_files /${siteName}/public/$uri @webserver;
	}

	location @webserver {
		proxy_http_version 1.1;
		proxy_set_header X-Forwarded-For $remote_addr;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_set_header X-Frappe-Site-Name ${siteName};
		proxy_set_header Host $host;
		proxy_set_header X-Use-X-Accel-Redirect True;
		proxy_read_timeout 120;
		proxy_redirect off;

		proxy_pass  http://${name}-frappe;
	}

	# error pages
	error_page 502 /502.html;
	location /502.html {
		root /usr/local/lib/python3.11/site-packages/bench/config/templates;
		internal;
	}

	# optimizations
	sendfile on;
	keepalive_timeout 15;
	client_max_body_size 50m;
	client_body_buffer_size 16K;
	client_header_buffer_size 1k;

	# enable gzip compresion
	gzip on;
	gzip_http_version 1.1;
	gzip_comp_level 5;
	gzip_min_length 256;
	gzip_proxied any;
	gzip_vary on;
	gzip_types
		application/javascript
		application/json
		text/css
		text/plain
		;
		# text/html is always compressed by HttpGzipModule
}
`;
}

function nginx(
  name: string,
  dir: string,
  sites: string[],
  layout: 'dns' | 'ports',
  webserverPort: number,
  socketioPort: number,
): string {
  const head = `upstream ${name}-frappe {
	server 127.0.0.1:${webserverPort} fail_timeout=0;
}

upstream ${name}-socketio-server {
	server 127.0.0.1:${socketioPort} fail_timeout=0;
}

# setup maps

# server blocks
`;
  if (layout === 'dns') return head + serverBlock(name, dir, 80, sites, '$host');
  return (
    head +
    sites.map((site, i) => serverBlock(name, dir, i === 0 ? 80 : 8000 + i, [site], site)).join('\n')
  );
}

/** Writes a bench under a new temporary folder; returns the bench's folder. */
export function makeBench(options: BenchFixtureOptions = {}): string {
  const name = options.name ?? 'frappe-bench';
  const dir = join(mkdtempSync(join(tmpdir(), 'herald-bench-')), name);
  const sites = options.sites ?? ['site1.local'];
  const webserverPort = options.webserverPort ?? 8000;
  const socketioPort = options.socketioPort ?? 9000;
  const node = options.node ?? '/usr/bin/node';
  for (const sub of ['apps/frappe', 'config/pids', 'logs', 'sites/assets', 'env/bin']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  writeFileSync(join(dir, 'apps/frappe/socketio.js'), "require('./realtime');\n");
  writeFileSync(join(dir, 'sites/apps.txt'), 'frappe\n');
  const config: Record<string, unknown> = {
    background_workers: 1,
    file_watcher_port: 6787,
    frappe_user: 'frappe',
    gunicorn_workers: 5,
    live_reload: true,
    rebase_on_pull: false,
    redis_cache: 'redis://127.0.0.1:13000',
    redis_queue: options.redisQueue ?? 'redis://127.0.0.1:11000',
    redis_socketio: 'redis://127.0.0.1:13000',
    restart_supervisor_on_update: false,
    restart_systemd_on_update: false,
    serve_default_site: true,
    shallow_clone: true,
    socketio_port: socketioPort,
    use_redis_auth: false,
    webserver_port: webserverPort,
    ...(options.nginx === 'dns' || options.nginx === undefined ? { dns_multitenant: true } : {}),
    ...options.siteConfig,
  };
  const sorted = Object.fromEntries(
    Object.entries(config)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  writeFileSync(join(dir, 'sites/common_site_config.json'), JSON.stringify(sorted, null, 1));
  for (const site of sites) {
    mkdirSync(join(dir, 'sites', site), { recursive: true });
    writeFileSync(
      join(dir, 'sites', site, 'site_config.json'),
      JSON.stringify(
        { db_name: `_${site.replace(/\W/g, '')}`, db_password: 'x', db_type: 'mariadb' },
        null,
        1,
      ),
    );
  }
  writeFileSync(join(dir, 'Procfile'), procfile({ node, webserverPort }));
  const production = options.production ?? 'supervisor';
  if (production === 'supervisor') {
    writeFileSync(join(dir, 'config/supervisor.conf'), supervisor(name, dir, node, webserverPort));
  }
  if (production === 'systemd') {
    mkdirSync(join(dir, 'config/systemd'), { recursive: true });
    writeFileSync(
      join(dir, `config/systemd/${name}-node-socketio.service`),
      systemdUnit(name, dir, node),
    );
  }
  if (options.nginx !== false && production !== false) {
    writeFileSync(
      join(dir, 'config/nginx.conf'),
      nginx(name, dir, sites, options.nginx ?? 'dns', webserverPort, socketioPort),
    );
  }
  return dir;
}

/** What `bench setup procfile` writes again (it undoes the swap). */
export function regenerateProcfile(
  dir: string,
  webserverPort = 8000,
  node = '/usr/bin/node',
): void {
  writeFileSync(join(dir, 'Procfile'), procfile({ node, webserverPort }));
}

/** What `bench setup supervisor` writes again (it undoes the swap). */
export function regenerateSupervisor(
  dir: string,
  name = 'frappe-bench',
  webserverPort = 8000,
  node = '/usr/bin/node',
): void {
  writeFileSync(join(dir, 'config/supervisor.conf'), supervisor(name, dir, node, webserverPort));
}
