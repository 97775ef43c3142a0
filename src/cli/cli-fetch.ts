import type { FetchLike } from '../core/platform.ts';
import { leanFetch } from '../node-http/lean-fetch.ts';

let shared: ReturnType<typeof leanFetch> | undefined;

/**
 * The HTTP client of the CLI's worker commands: the lean node:http fetch, one per
 * process, so `send` and `sync` reuse keep-alive sockets across forms. Measured in the
 * same run against Node's fetch (undici) on the ordered drain: less client CPU per form
 * and the faster drain (bench/RESULTS.md), and issue 4's fault matrix passes over both.
 * ky's calls (login, restore, API) carry a Request and go on to Node's fetch inside it.
 * Idle keep-alive sockets do not hold the process open (Node's agent unrefs a free
 * socket), so a command ends when its work does without closing this.
 */
export function cliFetch(): FetchLike {
  shared ??= leanFetch();
  return shared;
}
