import type * as RedisDriver from '@redis/client';
import {
  InvalidRedisUrlError,
  PublisherError,
  RedisCommandError,
  RedisUnavailableError,
} from './errors.js';
import { redactUrl, scrubSecret } from './redact-url.js';

/** Reconnect attempts after a failure before the client gives up for good. */
const RECONNECT_ATTEMPTS = 2;
/** A batch job must not wait forever on a Redis that accepts TCP but never answers. */
const COMMAND_TIMEOUT_MS = 30_000;
/** Commands in flight at once when pipelining; bounds client memory for big lists. */
const PIPELINE_WINDOW = 64;

export type RedisArgs = readonly string[];

/**
 * The Redis driver, loaded by the first connection rather than with the CLI: importing it takes
 * about 0.12 s, which every run would otherwise spend before it starts its analysis workers.
 */
let driver: typeof RedisDriver | null = null;

export async function loadRedisDriver(): Promise<typeof RedisDriver> {
  driver ??= await import('@redis/client');
  return driver;
}

function newClient(
  { createClient, ErrorReply }: typeof RedisDriver,
  url: string,
  connectTimeoutMs: number,
) {
  return createClient({
    url,
    // RESP2 keeps raw replies plain arrays of strings, whatever the command.
    RESP: 2,
    // A command issued while the link is down fails at once instead of waiting in a queue.
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        cause instanceof ErrorReply || retries >= RECONNECT_ATTEMPTS ? false : 100 * (retries + 1),
    },
  });
}

type Client = ReturnType<typeof newClient>;

/**
 * One Redis link that turns every driver failure into a `PublisherError`: unreachable or lost
 * links become `RedisUnavailableError`, error replies `RedisCommandError`. Messages carry the
 * redacted URL only.
 */
export class RedisConnection {
  private lastSocketError: unknown;
  private closed = false;

  private constructor(
    private readonly redis: typeof RedisDriver,
    private readonly client: Client,
    readonly url: string,
  ) {
    // Without a listener an 'error' event would crash the process; failures reach callers through
    // the command or connect() that hit them, and the last one names the cause of a lost link.
    client.on('error', (err: unknown) => {
      this.lastSocketError = err;
    });
  }

  /** Connects or fails with `RedisUnavailableError` within about twice the connect timeout. */
  static async open(url: string, connectTimeoutSeconds: number): Promise<RedisConnection> {
    assertRedisUrl(url);
    const timeoutMs = Math.max(1, Math.round(connectTimeoutSeconds * 1000));
    const redis = await loadRedisDriver();
    let client: Client;
    try {
      client = newClient(redis, url, timeoutMs);
    } catch {
      // Driver messages for bad URLs may quote the URL, so the cause is dropped on purpose.
      throw new InvalidRedisUrlError(`invalid Redis URL ${redactUrl(url)}`);
    }
    const connection = new RedisConnection(redis, client, url);
    const connecting = client.connect();
    connecting.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectDeadlineError(timeoutMs * 2)), timeoutMs * 2);
    });
    try {
      await Promise.race([connecting, deadline]);
      return connection;
    } catch (err) {
      connection.destroy();
      throw new RedisUnavailableError(
        `cannot reach Redis at ${redactUrl(url)} (${connection.reason(err)})`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async command(args: RedisArgs): Promise<unknown> {
    try {
      return await this.client.sendCommand(args);
    } catch (err) {
      throw this.failure(err, args[0]);
    }
  }

  /** Sends the commands pipelined, at most `PIPELINE_WINDOW` in flight; replies in order. */
  async pipeline(commands: readonly RedisArgs[]): Promise<unknown[]> {
    const replies: unknown[] = [];
    for (let start = 0; start < commands.length; start += PIPELINE_WINDOW) {
      const window = commands.slice(start, start + PIPELINE_WINDOW);
      replies.push(...(await Promise.all(window.map((args) => this.command(args)))));
    }
    return replies;
  }

  /** MULTI/EXEC: the commands run back to back, nothing interleaves. */
  async transaction(commands: readonly RedisArgs[]): Promise<unknown[]> {
    const multi = this.client.multi();
    for (const args of commands) multi.addCommand([...args]);
    try {
      return (await multi.exec()) as unknown[];
    } catch (err) {
      throw this.failure(err, 'EXEC');
    }
  }

  /** Idempotent; safe after a failed connect or a lost link. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.client.isOpen) {
      this.client.destroy();
      return;
    }
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  private destroy(): void {
    this.closed = true;
    this.client.destroy();
  }

  private failure(err: unknown, command: string | undefined): PublisherError {
    if (err instanceof PublisherError) return err;
    const where = redactUrl(this.url);
    const { ErrorReply, TimeoutError } = this.redis;
    if (err instanceof ErrorReply) {
      return new RedisCommandError(
        `Redis at ${where} refused ${command ?? 'a command'}: ${scrubSecret(err.message, this.url)}`,
        { cause: err },
      );
    }
    if (err instanceof TimeoutError) {
      return new RedisUnavailableError(
        `Redis at ${where} did not answer ${command ?? 'a command'} within ${COMMAND_TIMEOUT_MS / 1000} s`,
        { cause: err },
      );
    }
    return new RedisUnavailableError(
      `lost the connection to Redis at ${where} during ${command ?? 'a command'} (${this.reason(err)})`,
      { cause: err },
    );
  }

  /** A short reason such as `ECONNREFUSED`, preferring the socket error behind a generic one. */
  private reason(err: unknown): string {
    const own = describe(err);
    const socket = this.lastSocketError === err ? undefined : describe(this.lastSocketError);
    const text =
      own === undefined || (socket !== undefined && isGeneric(this.redis, err)) ? socket : own;
    return scrubSecret(text ?? 'unknown error', this.url);
  }
}

class ConnectDeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Errors that only say the link is down; the socket error that brought it down says why. */
function isGeneric(
  { ClientClosedError, ClientOfflineError }: typeof RedisDriver,
  err: unknown,
): boolean {
  return err instanceof ClientClosedError || err instanceof ClientOfflineError;
}

function describe(err: unknown): string | undefined {
  if (err === undefined || err === null) return undefined;
  if (typeof err !== 'object') return String(err);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return describe(inner[0]);
  const socketError = (err as { socketError?: unknown }).socketError;
  if (socketError !== undefined) return describe(socketError);
  return err instanceof Error ? err.message : String(err);
}

function assertRedisUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new InvalidRedisUrlError(`invalid Redis URL ${redactUrl(url)}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:' && protocol !== 'unix:') {
    throw new InvalidRedisUrlError(
      `invalid Redis URL ${redactUrl(url)}: expected redis://, rediss:// or unix://`,
    );
  }
}
