import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { fromString, type RestoreBody } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { getSyncToken } from '../../../src/core/store/sync-state.ts';
import { readSample } from '../../contract/samples.ts';

/** Hostile payloads through the whole ingest: typed errors, fast, and the database untouched. */

const enc = new TextEncoder();
const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

async function loaded(): Promise<FieldsimDb> {
  const db = new FieldsimDb(`ingest-${open.length}-${Date.now()}`, {
    indexedDB: new IDBFactory(),
    IDBKeyRange,
  });
  open.push(db);
  await ingestRestore(db, fromString(readSample('commcare-core/case_create_basic.xml')), { mode: 'full' });
  return db;
}

async function* bytes(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? enc.encode(p) : p;
}

async function* bigAttribute(): AsyncGenerator<Uint8Array> {
  yield enc.encode('<OpenRosaResponse><case case_id="');
  const chunk = enc.encode('x'.repeat(64 * 1024));
  for (let i = 0; i < 160; i++) yield chunk;
  yield enc.encode('"/></OpenRosaResponse>');
}

let laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">';
for (let i = 1; i < 10; i++) laughs += `<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`;
laughs += ']><OpenRosaResponse>&lol9;</OpenRosaResponse>';

const hostile: [string, () => RestoreBody, string][] = [
  ['billion laughs', () => fromString(laughs), 'xml-malformed'],
  [
    'external entity',
    () =>
      fromString(
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><OpenRosaResponse>&x;</OpenRosaResponse>',
      ),
    'xml-malformed',
  ],
  ['10 MB attribute', bigAttribute, 'xml-malformed'],
  [
    'invalid UTF-8',
    () => bytes('<OpenRosaResponse><message>', new Uint8Array([0xff, 0xfe]), '</message></OpenRosaResponse>'),
    'xml-malformed',
  ],
  [
    'truncated',
    () => fromString(readSample('commcare-core/case_create_basic.xml').slice(0, 700)),
    'xml-malformed',
  ],
  // Text before the root is skipped as on the phone; the root after it still decides.
  ['text before a non-restore root', () => fromString('hello<html/>'), 'xml-invalid'],
  ['not a restore', () => fromString('<html><body>login</body></html>'), 'xml-invalid'],
];

describe('ingestRestore on hostile payloads', () => {
  it.each(hostile)('%s: typed error within a second, previous database intact', async (_name, body, code) => {
    const db = await loaded();
    for (const mode of ['full', 'incremental'] as const) {
      const t0 = performance.now();
      let err: unknown;
      try {
        await ingestRestore(db, body(), { mode });
      } catch (e) {
        err = e;
      }
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(isFieldsimError(err) && err.code).toBe(code);
      expect(await getSyncToken(db)).toBe('sync_token_a');
      expect((await new CaseDb(db).get('case_one'))?.caseName).toBe('case');
      expect(await new CaseDb(db).count()).toBe(1);
    }
  });

  it('an aborted signal stops a full restore with a typed error and keeps the old data', async () => {
    const db = await loaded();
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<string> {
      yield '<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>new</restore_id></Sync>';
      ac.abort();
      yield '</OpenRosaResponse>';
    }
    let err: unknown;
    try {
      await ingestRestore(db, slow(), { mode: 'full', signal: ac.signal });
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code).toBe('aborted');
    expect(await getSyncToken(db)).toBe('sync_token_a');
  });
});
