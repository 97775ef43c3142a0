import { DigestSession } from './digest-auth.ts';

/**
 * `basic`: credentials sent up front (Basic, or the ApiKey header), and a 401 carrying a
 * Digest challenge is answered with Digest (servers such as ODK Aggregate, or HQ's APIs,
 * which default to Digest). `digest`: Digest only; the password never crosses the wire.
 */
export type AuthMode = 'basic' | 'digest';

/** How one client authenticates its requests, Digest state included. */
export class ClientAuth {
  readonly #mode: AuthMode;
  readonly #upfront: string | undefined;
  readonly #digest: DigestSession | undefined;

  /**
   * `upfront`: the Basic or ApiKey header (undefined in digest mode); `username`/`password`
   * for Digest (no password, as with an API key: Digest is never attempted).
   */
  constructor(opts: { mode: AuthMode; upfront: string | undefined; username: string; password?: string }) {
    this.#mode = opts.mode;
    this.#upfront = opts.mode === 'digest' ? undefined : opts.upfront;
    this.#digest =
      opts.password !== undefined && opts.password !== ''
        ? new DigestSession(opts.username, opts.password)
        : undefined;
  }

  async #header(method: string, url: string): Promise<{ value: string | undefined; digest: boolean }> {
    const d = this.#digest;
    if (d?.ready) return { value: await d.authorization(method, url), digest: true };
    if (this.#mode === 'digest' && d) return { value: d.probe(), digest: false };
    return { value: this.#upfront, digest: false };
  }

  /**
   * Sends with the `authorization` header set, answering Digest challenges: at most one
   * 401 round for a fresh nonce and one for a stale one. Any other answer, or a 401 that
   * Digest cannot fix (no challenge, or the password refused), is returned as is.
   */
  async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    send: (headers: Record<string, string>) => Promise<Response>,
  ): Promise<Response> {
    for (let round = 0; ; round++) {
      const h = await this.#header(method, url);
      if (h.value === undefined) delete headers.authorization;
      else headers.authorization = h.value;
      const res = await send(headers);
      if (res.status !== 401 || !this.#digest || round >= 2) return res;
      if (!this.#digest.adopt(res.headers.get('www-authenticate'), h.digest)) {
        if (h.digest) this.#digest.reset();
        return res;
      }
      // The refused answer's body is not needed; releasing it frees the connection.
      await res.body?.cancel().catch(() => {});
    }
  }
}
