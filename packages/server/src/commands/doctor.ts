import type { Command } from 'commander';
import { formatStep, formatSummary, spinner } from '../doctor/report.js';
import { runDoctor } from '../doctor/run.js';

/** Adds `herald doctor`: the realtime chain as a checklist, stopping at the first broken link. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'find the broken link of a realtime setup: DNS, TLS, Socket.IO, auth, identity, backend, Redis',
    )
    .option('--url <url>', "the site's URL, e.g. https://erp.example.com")
    .option(
      '--bench <dir>',
      'a Frappe bench: check its files first, offline (Procfile, supervisor, nginx, common_site_config.json)',
    )
    .option('--site <site>', 'the site name (default: the URL host name)')
    .option('--sid <sid>', 'a session cookie value to connect with')
    .option('--token <key:secret>', 'an API token to connect with')
    .option('--login <user>', 'log in with /api/method/login first (with --password)')
    .option('--password <password>', 'password for --login')
    .option(
      '--redis <url>',
      'the Redis the web server publishes to: check the subscription and deliver a msgprint',
    )
    .option(
      '--cluster-prefix <prefix>',
      'with --redis: the --cluster-prefix of the `herald serve --cluster` nodes on that Redis',
      'herald',
    )
    .option(
      '--admin-token <token>',
      "the realtime server's --admin-token (default: $HERALD_ADMIN_TOKEN): Herald then names its backchannel URL and the web server's errors, which it tells no other client",
    )
    .option('--timeout <ms>', 'how long each network step may take', '5000')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nGive --url, --bench or both. Steps marked Herald-only (identity, backend) are skipped against other realtime servers.\nExit code: 0 when every step passed, 1 when one failed.',
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
        process.stderr.write(
          `herald doctor: --timeout must be a positive whole number of milliseconds (got ${opts.timeout})\n`,
        );
        process.exit(2);
      }
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(String(opts.clusterPrefix))) {
        process.stderr.write(
          `herald doctor: --cluster-prefix must be 1 to 64 letters, digits, _, . or - (got ${opts.clusterPrefix})\n`,
        );
        process.exit(2);
      }
      if (opts.url === undefined && opts.bench === undefined) {
        process.stderr.write(
          'herald doctor: give --url (the site to check over the network), --bench (a bench folder to check offline) or both\n',
        );
        process.exit(2);
      }
      const out = process.stdout;
      const json = Boolean(opts.json);
      let stopSpinner: () => void = () => undefined;
      if (!json)
        out.write(
          `herald doctor ${[opts.url, opts.bench && `--bench ${opts.bench}`].filter(Boolean).join(' ')}\n`,
        );
      const report = await runDoctor({
        url: opts.url as string | undefined,
        bench: opts.bench as string | undefined,
        site: opts.site as string | undefined,
        sid: opts.sid as string | undefined,
        token: opts.token as string | undefined,
        login: opts.login as string | undefined,
        password: opts.password as string | undefined,
        redis: opts.redis as string | undefined,
        clusterPrefix: opts.clusterPrefix as string,
        adminToken: (opts.adminToken as string | undefined) || process.env.HERALD_ADMIN_TOKEN,
        timeoutMs,
        onStep: (name, result) => {
          if (json) return;
          if (!result) {
            stopSpinner = spinner(out, name);
            return;
          }
          stopSpinner();
          out.write(`${formatStep(result)}\n`);
        },
      });
      if (json) out.write(`${JSON.stringify(report, null, 2)}\n`);
      else out.write(`\n${formatSummary(report)}\n`);
      process.exit(report.ok ? 0 : 1);
    });
}
