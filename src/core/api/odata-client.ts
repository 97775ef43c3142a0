import { FieldsimError } from '../errors/fieldsim-error.ts';
import type { ApiTransport } from './api-transport.ts';

/** Forms of one xmlns, or cases of one type, as HQ's OData feeds serve them. */
export type ODataKind = 'forms' | 'cases';

/** One export configuration: its id, and the xmlns or case type it covers. */
export interface ODataConfig {
  id: string;
  tag: string;
  url: string;
}

export type ODataRow = Record<string, string | number | boolean | null>;

/** One feed page: its rows and the link to the next one, if any. */
export interface ODataPage {
  value: ODataRow[];
  nextLink: string | null;
}

/**
 * Reads HQ's OData v4 feeds (`/a/<domain>/api/v0.5/odata/<forms|cases>/<config_id>/feed`,
 * hq:corehq/apps/api/odata) as an OData client does: the `value` of each page, following
 * `@odata.nextLink` until there is none. Same auth, back-off and typed errors as the rest
 * of `HqApiClient`.
 */
export class ODataApi {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    this.#t = t;
  }

  /** The configurations the server lists (the emulator's index; HQ shows them in its UI). */
  async configs(kind: ODataKind): Promise<ODataConfig[]> {
    const body = await this.#t.getObject<{ value?: ODataConfig[] }>(this.#t.url(`odata/${kind}/`));
    return Array.isArray(body.value) ? body.value : [];
  }

  /** The configuration id for an id, an xmlns (forms) or a case type (cases). */
  async resolve(kind: ODataKind, idOrTag: string): Promise<string> {
    const match = (await this.configs(kind)).find((c) => c.id === idOrTag || c.tag === idOrTag);
    if (!match) throw new FieldsimError('not-found', `No ${kind} export configuration for '${idOrTag}'`);
    return match.id;
  }

  /** The feed's CSDL document (`$metadata`), as XML text. */
  async metadata(kind: ODataKind, configId: string): Promise<string> {
    return (
      await this.#t.getBlob(this.#t.url(`odata/${kind}/${encodeURIComponent(configId)}/$metadata`))
    ).text();
  }

  /** The property names `$metadata` declares for the feed's entity type, in order. */
  async columns(kind: ODataKind, configId: string): Promise<string[]> {
    const xml = await this.metadata(kind, configId);
    return [...xml.matchAll(/<Property\s+Name="([^"]+)"/g)].map((m) => m[1] ?? '');
  }

  /** Every page of the feed, following `@odata.nextLink`. */
  async *pages(
    kind: ODataKind,
    configId: string,
    opts: { top?: number } = {},
  ): AsyncGenerator<ODataPage, void, undefined> {
    const q = new URLSearchParams();
    if (opts.top !== undefined) q.set('$top', String(opts.top));
    let url: string | null = this.#t.url(`odata/${kind}/${encodeURIComponent(configId)}/feed`, q);
    const seen = new Set<string>();
    while (url !== null && !seen.has(url)) {
      seen.add(url);
      const body: { value?: unknown; '@odata.nextLink'?: unknown } = await this.#t.getObject(url);
      if (!Array.isArray(body.value))
        throw new FieldsimError('bad-response', `${url}: an OData feed page without a "value" array`);
      const next =
        typeof body['@odata.nextLink'] === 'string' ? this.#t.resolveLink(body['@odata.nextLink']) : null;
      yield { value: body.value as ODataRow[], nextLink: next };
      url = next;
    }
  }
}
