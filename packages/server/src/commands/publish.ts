import { readFileSync } from 'node:fs';
import type { PublishArgs } from '@herald/protocol';
import { createPublisher, PublishError, type Publisher } from '@herald/publisher';
import type { Command } from 'commander';

/** The options of `herald publish`, as commander parses them. */
export interface PublishCommandOptions {
  site?: string;
  room?: string;
  user?: string;
  doctype?: string;
  docname?: string;
  task?: string;
  event?: string;
  message?: string;
  messageFile?: string;
  redis?: string;
  http?: string;
  apiKey?: string;
  clusterStream?: string;
  clusterPrefix?: string;
  clusterStreamLength?: string;
}

/** A usage error: the named flag is wrong (exit code 2). */
class UsageError extends Error {}

/** Checks the options and builds the publish_realtime arguments. */
export function publishArgs(options: PublishCommandOptions): PublishArgs {
  if (!options.site) throw new UsageError('--site is required: the site (namespace) to publish to');
  if (!options.event) throw new UsageError('--event is required: the event name');
  const targets = (['room', 'user', 'doctype', 'task'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (targets.length !== 1) {
    throw new UsageError(
      targets.length === 0
        ? 'give one target: --room R, --user U, --doctype D [--docname N] or --task T'
        : `give one target only, not ${targets.map((t) => `--${t}`).join(' and ')}`,
    );
  }
  if (options.docname !== undefined && options.doctype === undefined)
    throw new UsageError('--docname needs --doctype');
  if (options.message !== undefined && options.messageFile !== undefined)
    throw new UsageError('give --message or --message-file, not both');
  let text = options.message;
  if (options.messageFile !== undefined) {
    try {
      text = readFileSync(options.messageFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--message-file ${options.messageFile}: ${(error as Error).message}`);
    }
  }
  let message: unknown = {};
  if (text !== undefined) {
    try {
      message = JSON.parse(text);
    } catch (error) {
      throw new UsageError(
        `${options.messageFile ? '--message-file' : '--message'} is not JSON: ${(error as Error).message}`,
      );
    }
  }
  // A doctype alone is the doctype's room; with a docname, the document's room.
  const room =
    options.room ??
    (options.doctype !== undefined && options.docname === undefined
      ? `doctype:${options.doctype}`
      : undefined);
  return {
    event: options.event,
    message,
    room,
    user: options.user,
    doctype: options.doctype,
    docname: options.docname,
    taskId: options.task,
  };
}

/** Runs `herald publish`; returns the exit code (0 only when published). */
export async function runPublish(
  options: PublishCommandOptions,
  io: { out(text: string): void; err(text: string): void },
): Promise<number> {
  let args: PublishArgs;
  try {
    args = publishArgs(options);
    const transports = [options.redis, options.http, options.clusterStream].filter(Boolean);
    if (transports.length !== 1)
      throw new UsageError(
        'give one transport: --redis URL, --http URL with --api-key K, or --cluster-stream URL',
      );
    if (options.http && !options.apiKey) throw new UsageError('--http needs --api-key');
    if (
      !options.clusterStream &&
      (options.clusterPrefix !== undefined || options.clusterStreamLength !== undefined)
    )
      throw new UsageError('--cluster-prefix and --cluster-stream-length go with --cluster-stream');
    if (options.clusterStreamLength !== undefined && !/^\d+$/.test(options.clusterStreamLength))
      throw new UsageError(
        `--cluster-stream-length must be a whole number (got ${options.clusterStreamLength})`,
      );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`herald publish: ${error.message}\n`);
    return 2;
  }
  const site = options.site!;
  let publisher: Publisher;
  try {
    publisher = options.clusterStream
      ? createPublisher({
          site,
          cluster: {
            redis: options.clusterStream,
            prefix: options.clusterPrefix,
            streamLength:
              options.clusterStreamLength === undefined
                ? undefined
                : Number(options.clusterStreamLength),
          },
        })
      : options.redis
        ? createPublisher({ site, redis: options.redis })
        : createPublisher({ site, http: { url: options.http!, apiKey: options.apiKey! } });
  } catch (error) {
    if (!(error instanceof PublishError)) throw error;
    io.err(`herald publish: ${error.message}\n`);
    return 2;
  }
  try {
    const sent = await publisher.publishRealtime(args);
    io.out(`${JSON.stringify(sent)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof PublishError) {
      io.err(`herald publish: ${error.code}: ${error.message}\n  ${error.hint}\n`);
      return 1;
    }
    throw error;
  } finally {
    await publisher.close();
  }
}

/** Adds `herald publish`. */
export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description(
      'publish one realtime event, as publish_realtime does (exit code 0 only when published)',
    )
    .option('--site <site>', 'the site (namespace)')
    .option('--room <room>', 'target: a room')
    .option('--user <user>', 'target: every socket of a user')
    .option('--doctype <doctype>', "target: a doctype's list (with --docname: a document)")
    .option('--docname <name>', 'with --doctype: a document')
    .option('--task <id>', "target: a background task's progress room")
    .option('--event <event>', 'the event name')
    .option('--message <json>', 'the message, as JSON (default {})')
    .option('--message-file <path>', 'the message, from a JSON file')
    .option('--redis <url>', 'publish on this Redis (the channel events)')
    .option('--http <url>', "publish through a Herald server's HTTP API")
    .option('--api-key <key>', 'the API key for --http')
    .option(
      '--cluster-stream <url>',
      "write to a Herald cluster's stream on this Redis (the nodes' --cluster-redis, else --redis)",
    )
    .option(
      '--cluster-prefix <prefix>',
      "with --cluster-stream: the nodes' --cluster-prefix (default herald)",
    )
    .option(
      '--cluster-stream-length <n>',
      "with --cluster-stream: the nodes' --cluster-stream-length (default 20000)",
    )
    .action(async (options: PublishCommandOptions) => {
      const code = await runPublish(options, {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      });
      process.exit(code);
    });
}
