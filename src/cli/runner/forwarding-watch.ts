import type { HqApiClient } from '../../core/api/hq-api-client.ts';
import { Sink } from '../sink/sink-server.ts';

/** `assert_forwarded` cannot be checked against this server (typed, so the CLI exits 2). */
export class ForwardingWatchError extends Error {
  override readonly name = 'ForwardingWatchError';
  readonly code = 'forwarding-watch' as const;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * What `assert_forwarded` watches: an in-process sink on 127.0.0.1 and a
 * ShortFormRepeater registered through the data-forwarding API that points at it (short
 * JSON with the form id is the cheapest payload to forward and to match). It is set up
 * before the first worker starts, since a forwarder only forwards what arrives after it
 * exists, and deleted when the run ends. The sink listens on loopback, so the server must
 * be on this machine (the local emulator).
 */
export class ForwardingWatch {
  readonly #sink: Sink;
  readonly #api: HqApiClient;
  readonly forwarderId: string;

  private constructor(sink: Sink, api: HqApiClient, forwarderId: string) {
    this.#sink = sink;
    this.#api = api;
    this.forwarderId = forwarderId;
  }

  static async start(api: HqApiClient, serverUrl: string): Promise<ForwardingWatch> {
    const host = new URL(serverUrl).hostname;
    if (!LOOPBACK.has(host))
      throw new ForwardingWatchError(
        `assert_forwarded needs the server on this machine (its sink listens on 127.0.0.1), not ${host}`,
      );
    const sink = new Sink({ keepBodies: false });
    const url = await sink.start();
    try {
      const f = await api.dataForwarding.create({
        type: 'ShortFormRepeater',
        url: `${url}fieldsim-run`,
        name: 'fieldsim run assert_forwarded',
      });
      return new ForwardingWatch(sink, api, f.id);
    } catch (e) {
      await sink.stop();
      throw new ForwardingWatchError(`registering the run's forwarder failed: ${(e as Error).message}`);
    }
  }

  /** When the sink first received this form (epoch ms), or undefined. */
  arrivedAt(formId: string): number | undefined {
    return this.#sink.firstArrival.get(formId);
  }

  /** How many times the sink received this form (more than once is a forwarded duplicate). */
  times(formId: string): number {
    return this.#sink.formCount.get(formId) ?? 0;
  }

  async close(): Promise<void> {
    await this.#api.dataForwarding.delete(this.forwarderId).catch(() => undefined);
    await this.#sink.stop();
  }
}
