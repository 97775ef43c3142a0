import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthCaseXml, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import type { CaseEntry, CatalogDelta } from '../../../src/core/store/case-catalog.ts';
import { forgetCatalog, loadCatalog } from '../../../src/core/store/case-writer.ts';
import { adoptAssembled, CatalogAssembler, catalogPiece } from '../../../src/core/store/catalog-stream.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

/**
 * The staged catalog streamed in pieces while a full restore runs (catalog-stream.ts): the
 * assembled catalog, name order included, equals the one read back from the database,
 * with updates of earlier cases, renames and the purge's removals on the way.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function connect(name: string): FieldsimDb {
  const db = new FieldsimDb(name, { indexedDB: new IDBFactory(), IDBKeyRange });
  open.push(db);
  return db;
}

function entry(caseName: string, page = 0): CaseEntry {
  return { page, caseType: 't', caseName, ownerId: 'o', closed: false, lastModified: 'd', indices: [] };
}

/** The payload, some cases renamed later in it, and cases owned by nobody here (purged). */
function payload(n: number): ReadableStream<Uint8Array> {
  const { chunks } = synthRestoreChunks(n);
  const last = new TextDecoder().decode(chunks.pop());
  const renamed = Array.from({ length: 30 }, (_, i) =>
    synthCaseXml(i * 11, Math.round(n / 10)).replace(/<case_name>[^<]*</, `<case_name>Aaa renamed ${i}<`),
  ).join('');
  const foreign = Array.from({ length: 5 }, (_, i) =>
    synthCaseXml(n + i, Math.round(n / 10))
      .replace(/<owner_id>[^<]*</, '<owner_id>someone-else<')
      .replace(/<index>.*<\/index>/, ''),
  ).join('');
  chunks.push(
    new TextEncoder().encode(last.replace('</OpenRosaResponse>', `${renamed}${foreign}</OpenRosaResponse>`)),
  );
  return streamOfChunks(chunks);
}

describe('catalog stream', () => {
  it('assembles the catalog a full restore leaves, in the same order, name order included', async () => {
    const db = connect('streamed');
    const asm = new CatalogAssembler();
    let pieces = 0;
    const r = await ingestRestore(db, payload(900), {
      mode: 'full',
      batchSize: 100,
      inFlight: 2,
      sortNames: false,
      onCatalogDelta: (d) => {
        pieces++;
        // Through a copy, as postMessage would.
        asm.add(structuredClone(catalogPiece(d)));
      },
    });
    expect(r.purged).toBe(5);
    expect(pieces).toBeGreaterThan(3);
    const { state, cat } = await loadCatalog(db);
    forgetCatalog(db);
    const reread = (await loadCatalog(db)).cat;
    expect(
      await adoptAssembled(db, asm, { gen: state.gen, version: state.version, count: cat.entries.size }),
    ).toBe(true);
    const adopted = (await loadCatalog(db)).cat;
    expect(adopted).toBe(asm.catalog);
    expect([...adopted.entries]).toEqual([...reread.entries]);
    expect(adopted.byName()).toEqual(reread.byName());
    expect(
      adopted
        .byName()
        .slice(0, 3)
        .map((id) => adopted.entries.get(id)?.caseName),
    ).toEqual(['Aaa renamed 0', 'Aaa renamed 1', 'Aaa renamed 10']);
  });

  it('keeps one key for a case sent twice and drops removed and renamed ones', () => {
    const asm = new CatalogAssembler();
    const one: CatalogDelta = new Map([
      ['a', entry('Bob')],
      ['b', entry('Al')],
      ['c', entry('Cy')],
    ]);
    asm.add(catalogPiece(one));
    asm.add(catalogPiece(new Map([['a', entry('Bob', 1)]])));
    asm.add(
      catalogPiece(
        new Map<string, CaseEntry | null>([
          ['c', entry('Abe')],
          ['b', null],
          ['d', entry('Dee')],
        ]),
      ),
    );
    const cat = asm.finish(2, 5, 3);
    expect(cat?.byName()).toEqual(['c', 'a', 'd']);
    expect(cat).toMatchObject({ gen: 2, version: 5 });
    expect(cat?.entries.get('a')?.page).toBe(1);
  });

  it('a piece with a wrong name order still gives the right order (sorted instead)', () => {
    const asm = new CatalogAssembler();
    const p = catalogPiece(
      new Map([
        ['a', entry('Bob')],
        ['b', entry('Al')],
        ['c', entry('Cy')],
      ]),
    );
    p.snap.nameOrder.reverse();
    asm.add(p);
    asm.add(catalogPiece(new Map([['d', entry('Ann')]])));
    expect(asm.finish(1, 1, 4)?.byName()).toEqual(['b', 'd', 'a', 'c']);
  });

  it('refuses a count that does not add up, and a malformed piece', () => {
    const asm = new CatalogAssembler();
    asm.add(catalogPiece(new Map([['a', entry('A')]])));
    expect(asm.finish(1, 1, 2)).toBeNull();
    const bad = catalogPiece(new Map([['a', entry('A')]]));
    bad.snap.count = 2;
    const broken = new CatalogAssembler();
    broken.add(bad);
    expect(broken.failed).toBe(true);
    expect(broken.finish(1, 1, 1)).toBeNull();
  });
});
