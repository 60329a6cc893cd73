import type { EventMessage } from '@herald/protocol';
import { PublishError } from './errors.js';
import type { Transport } from './transport.js';

/** Herald's HTTP publish API: `POST <url>/api/v1/publish` with a Bearer API key. */
export class HttpTransport implements Transport {
  readonly #endpoint: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(options: { url: string; apiKey: string; timeoutMs?: number }) {
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/publish`;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  async send(message: EventMessage): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          site: message.namespace,
          event: message.event,
          message: message.message,
          room: message.room,
        }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const err = error as Error & { cause?: { code?: string } };
      const reason =
        err.name === 'TimeoutError'
          ? `no answer within ${this.#timeoutMs} ms`
          : (err.cause?.code ?? (err.cause as Error | undefined)?.message ?? err.message);
      throw new PublishError(
        'HERALD_PUBLISH_HTTP_FAILED',
        `cannot reach ${this.#endpoint} (${reason})`,
        { cause: error },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status === 202 || response.ok) return;
    let detail = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.message) detail = `${body.error.code ?? ''} ${body.error.message}`.trim();
    } catch {
      // not JSON: keep the text
    }
    const code = response.status >= 500 ? 'HERALD_PUBLISH_HTTP_FAILED' : 'HERALD_PUBLISH_REJECTED';
    throw new PublishError(code, `${this.#endpoint} answered HTTP ${response.status}: ${detail}`, {
      status: response.status,
    });
  }

  stats() {
    return { queued: 0, dropped: 0 };
  }

  async close(): Promise<void> {}
}
