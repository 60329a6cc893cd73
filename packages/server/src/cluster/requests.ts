import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { HeraldIo } from '../session.js';

/** How long a cluster-wide question waits for the other nodes (below the adapter's fixed 5 s). */
export const ASK_TIMEOUT_MS = 2000;

/** What every node answered to a question, and how many did not answer in time. */
export interface ClusterAnswers<T> {
  answers: { node: string; value: T }[];
  /** Nodes that did not answer in time (their ids, when the cluster's node list knows them). */
  missing: string[];
  /** How many nodes did not answer in time. */
  missingCount: number;
}

interface Ask {
  id: string;
  from: string;
  question: string;
  args: unknown;
}

interface Answer {
  id: string;
  to: string;
  node: string;
  value: unknown;
}

/**
 * Questions to every other node of the cluster, over the adapter's server-side emits on the root
 * namespace (it lives as long as the server): each node answers with its own share, and the asker
 * waits for as many answers as the adapter counts nodes, or for its own timeout, whichever comes
 * first. Answers carry only what the question needs (ids and users, never handshakes or sessions).
 */
export class ClusterRequests {
  readonly #io: HeraldIo;
  readonly #node: string;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #answerers = new Map<string, (args: unknown) => unknown>();
  readonly #waiting = new Map<string, (answer: Answer) => void>();
  /** The other nodes by id, when known (the cluster's node list); else they are counted only. */
  otherNodes: (() => string[] | undefined) | undefined;

  constructor(io: HeraldIo, node: string, logger: Logger, timeoutMs = ASK_TIMEOUT_MS) {
    this.#io = io;
    this.#node = node;
    this.#log = logger.child({ component: 'cluster-requests' });
    this.#timeoutMs = timeoutMs;
    const root = io.of('/') as unknown as {
      on(event: string, listener: (message: unknown) => void): void;
    };
    root.on('herald:ask', (message) => this.#onAsk(message as Ask));
    root.on('herald:answer', (message) => {
      const answer = message as Answer;
      if (answer?.to === this.#node) this.#waiting.get(answer.id)?.(answer);
    });
  }

  /** How this node answers `question` (its local share). */
  answer(question: string, answerer: (args: unknown) => unknown): void {
    this.#answerers.set(question, answerer);
  }

  async #onAsk(ask: Ask): Promise<void> {
    if (!ask || ask.from === this.#node || typeof ask.id !== 'string') return;
    const answerer = this.#answerers.get(ask.question);
    if (!answerer) return;
    let value: unknown;
    try {
      value = await answerer(ask.args);
    } catch (error) {
      this.#log.warn({ err: error, question: ask.question }, 'could not answer a cluster question');
      value = null;
    }
    this.#io.serverSideEmit('herald:answer', { id: ask.id, to: ask.from, node: this.#node, value });
  }

  /** Asks every other node; resolves with their answers (this node's own share is the caller's). */
  async ask<T>(question: string, args: unknown): Promise<ClusterAnswers<T>> {
    const adapter = this.#io.of('/').adapter as unknown as { serverCount(): Promise<number> };
    let expected: number;
    try {
      expected = Math.max(0, (await adapter.serverCount()) - 1);
    } catch {
      expected = 0;
    }
    const known = this.otherNodes?.();
    if (known) expected = Math.max(expected, known.length);
    const answers: { node: string; value: T }[] = [];
    if (expected === 0) return { answers, missing: [], missingCount: 0 };
    const id = randomUUID();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#timeoutMs);
      timer.unref();
      this.#waiting.set(id, (answer) => {
        if (answers.some((a) => a.node === answer.node)) return;
        answers.push({ node: answer.node, value: answer.value as T });
        if (answers.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#io.serverSideEmit('herald:ask', { id, from: this.#node, question, args });
    });
    this.#waiting.delete(id);
    const answered = new Set(answers.map((a) => a.node));
    const missing = (known ?? []).filter((node) => !answered.has(node));
    return { answers, missing, missingCount: Math.max(0, expected - answers.length) };
  }
}
