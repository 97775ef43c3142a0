import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthRestoreChunks } from '../../../../bench/restore-synth.ts';
import { XmlError } from '../../../../src/core/errors/xml-error.ts';
import {
  fromString,
  parseRestoreAll,
  type RestoreBody,
} from '../../../../src/core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../../../src/core/protocol/restore/restore-types.ts';
import { SAMPLES_DIR } from '../../../contract/samples.ts';
import { cutStream } from '../../../helpers/cut-stream.ts';
import { parseRestoreAll as parseRestoreAllSaxes } from '../../../helpers/saxes-restore-parser.ts';

/**
 * The restore parser on XmlScanner against the saxes-based parser it replaced
 * (test/helpers/saxes-restore-parser.ts): the same events for every restore-like payload
 * of the samples and for generated ones, and the same typed error where they fail.
 */

type Outcome = { events: RestoreEvent[] } | { code: string; message: string; where: unknown };

async function outcome(parse: typeof parseRestoreAll, body: () => RestoreBody): Promise<Outcome> {
  try {
    return { events: await parse(body()) };
  } catch (e) {
    if (!(e instanceof XmlError)) throw e;
    // Protocol errors (xml-invalid, case-invalid...) come from the same readers with the
    // same position; well-formedness messages are the tokenizer's own.
    const same = e.code !== 'xml-malformed';
    return {
      code: e.code,
      message: same ? e.message : '',
      where: same ? { line: e.line, column: e.column, path: e.path, caseId: e.caseId } : null,
    };
  }
}

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function restoreSamples(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.xml') && readFileSync(p, 'utf8').includes('<OpenRosaResponse')) out.push(p);
    }
  };
  walk(SAMPLES_DIR);
  return out.sort();
}

describe('restore parser: XmlScanner against saxes', () => {
  const files = restoreSamples();

  it('finds the restore-like samples (commcare-core, formplayer, android, hq)', () => {
    expect(files.length).toBeGreaterThanOrEqual(70);
  });

  it.each(files.map((f) => [relative(SAMPLES_DIR, f), f]))(
    '%s: same events or error, whole and cut',
    async (_, f) => {
      const bytes = new Uint8Array(readFileSync(f));
      const text = new TextDecoder().decode(bytes);
      const want = await outcome(parseRestoreAllSaxes, () => fromString(text));
      expect(await outcome(parseRestoreAll, () => fromString(text))).toEqual(want);
      const rand = rng(bytes.length);
      if (bytes.length <= 1500) {
        // Every cut point, bytes split inside multi-byte characters included.
        for (let cut = 1; cut < bytes.length; cut++)
          expect(await outcome(parseRestoreAll, () => cutStream(bytes, [cut]))).toEqual(want);
      } else {
        const rounds = bytes.length > 1_000_000 ? 3 : 25;
        for (let r = 0; r < rounds; r++) {
          const cuts = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
            Math.floor(rand() * bytes.length),
          );
          expect(await outcome(parseRestoreAll, () => cutStream(bytes, cuts))).toEqual(want);
        }
      }
    },
  );

  it('same events on a generated 3,000-case restore, in network chunks and cut at random', async () => {
    const { chunks } = synthRestoreChunks(3000);
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* chunks;
    }
    const want = await parseRestoreAllSaxes(body());
    expect(want.length).toBe(3004);
    expect(await parseRestoreAll(body())).toEqual(want);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    const rand = rng(7);
    const cuts = Array.from({ length: 200 }, () => Math.floor(rand() * all.length));
    expect(await parseRestoreAll(cutStream(all, cuts))).toEqual(want);
  });

  it('same outcome on edge cases of the restore layout', async () => {
    const wrap = (inner: string, attrs = '') =>
      `<OpenRosaResponse xmlns="http://openrosa.org/http/response"${attrs}>${inner}</OpenRosaResponse>`;
    const cases = [
      // Prefixes bound on the root, on the element, default namespaces, CDATA, comments, PIs.
      `<orr:OpenRosaResponse xmlns:orr="http://openrosa.org/http/response" xmlns:s="http://commcarehq.org/sync"><s:Sync><s:restore_id>t1</s:restore_id></s:Sync></orr:OpenRosaResponse>`,
      wrap(
        '<Sync xmlns="http://commcarehq.org/sync"><restore_id><![CDATA[t]]>2<!-- c --><?pi?></restore_id></Sync>' +
          '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="a&amp;b" date_modified="d" user_id="u"><update><p>x &lt; y&#10;z</p><q a="1\n2"/></update></case>',
      ),
      wrap('<fixture id="f" indexed="true"><r><item k="1">\n  <v>1</v>\n</item></r></fixture>'),
      wrap('<fixture id="f"/><schema id="s"><indices><index>@a,b</index></indices></schema>'),
      wrap('<schema id="s"><indices><index>bad expr</index></indices></schema>'),
      wrap('<case case_id="" date_modified="d"/>'),
      wrap('<Sync xmlns="urn:other"><restore_id>no</restore_id></Sync>'),
      `<?xml version="1.0"?>\n<!-- head -->\n${wrap('')}\n<!-- tail -->\n`,
      `junk before <b>${wrap('')}`,
      wrap('<message>&unknown;</message>'),
      wrap('<message>text</message>') + 'trailing',
      wrap('<a></b>'),
    ];
    for (const xml of cases) {
      const want = await outcome(parseRestoreAllSaxes, () => fromString(xml));
      expect(await outcome(parseRestoreAll, () => fromString(xml)), xml).toEqual(want);
    }
  });

  it('stays linear on hostile shapes cut over many chunks (each rejected at the 4 MiB token cap)', async () => {
    // Each chunk holds a '>' (which may end the markup) but never completes it: a scanner
    // that re-read the whole token per chunk would take seconds (13.6 s measured for the
    // many-attributes shape before start tags resumed where they were cut).
    const shapes: [string, (i: number) => string, string][] = [
      ['<OpenRosaResponse><message ', (i) => ` a${i}=">"`, '/></OpenRosaResponse>'],
      ['<OpenRosaResponse><message a="', () => '&amp;>', '"/></OpenRosaResponse>'],
      ['<OpenRosaResponse><message>', () => '&amp;x', '</message></OpenRosaResponse>'],
      ['<OpenRosaResponse><!--', () => '- >', '--></OpenRosaResponse>'],
      ['<OpenRosaResponse><message><![CDATA[', () => ']>', ']]></message></OpenRosaResponse>'],
    ];
    for (const [head, unit, tail] of shapes) {
      async function* body(): AsyncGenerator<string> {
        yield head;
        let i = 0;
        for (let c = 0; c < 80; c++) {
          let s = '';
          while (s.length < 64 * 1024) s += unit(i++);
          yield s;
        }
        yield tail;
      }
      const t0 = performance.now();
      await expect(parseRestoreAll(body())).rejects.toThrow(/longer than/);
      expect(performance.now() - t0).toBeLessThan(6000);
    }
  });

  it('stays linear when a long token trickles in a few characters per chunk', async () => {
    // 2 MiB of one attribute value holding '>' in 8-character chunks: re-joining and
    // re-reading the unfinished tag per chunk would be quadratic (hours); held chunks
    // are joined every 64 KiB instead.
    async function* body(): AsyncGenerator<string> {
      yield '<OpenRosaResponse><message a="';
      for (let c = 0; c < 256 * 1024; c++) yield 'x>&amp;y';
      yield '"/><Sync xmlns="http://commcarehq.org/sync"><restore_id>t</restore_id></Sync></OpenRosaResponse>';
    }
    const t0 = performance.now();
    expect(await parseRestoreAll(body())).toEqual([{ kind: 'sync', restoreId: 't' }]);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
