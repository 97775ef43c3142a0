import { afterEach, describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/core/crypto/crypto-error.ts';
import { createDataKey } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { Vault } from '../../src/core/crypto/vault.ts';
import { fromString } from '../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { getFixture } from '../../src/core/store/fixtures.ts';
import { getLedger } from '../../src/core/store/ledgers.ts';
import { ingestRestore } from '../../src/core/store/restore-ingest.ts';
import { nodeRecordAead } from '../../src/node-store/node-record-aead.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';

/**
 * node:crypto's synchronous AES-GCM for records (src/node-store/node-record-aead.ts) and
 * WebCrypto's are one scheme: each opens what the other sealed, tampering is a typed
 * `record-integrity` either way, and databases sealed before it existed still open.
 */

async function key(): Promise<CryptoKey> {
  return (await createDataKey('pw', { iterations: 1000 })).key;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof CryptoError ? `${e.code} ${e.table}/${e.recordKey}` : `other: ${String(e)}`;
  }
}

const stores: SqliteStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('node:crypto record AEAD', () => {
  it('binds only an AES-256-GCM CryptoKey; the vault hands it to every cipher it opens', async () => {
    const k = await key();
    expect(new RecordCipher(k).synchronous).toBe(false);
    expect(new RecordCipher(k, crypto, nodeRecordAead).synchronous).toBe(true);
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expect(nodeRecordAead.bind(hmac)).toBeNull();
    const aes128 = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']);
    expect(nodeRecordAead.bind(aes128)).toBeNull();
    const v = new Vault(nodeRecordAead);
    v.open(new RecordCipher(k));
    expect(v.cipher()?.synchronous).toBe(true);
    const plainVault = new Vault();
    plainVault.open(new RecordCipher(k));
    expect(plainVault.cipher()?.synchronous).toBe(false);
  });

  it('records sealed by either engine open with the other (text, bytes, empty, large)', async () => {
    const k = await key();
    const web = new RecordCipher(k);
    const sync = new RecordCipher(k, crypto, nodeRecordAead);
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    for (const [a, b] of [
      [web, sync],
      [sync, web],
    ] as const) {
      const t = await a.sealText('casePages', '1:0', 'Amina Okafor, Zoë');
      expect(await b.openText('casePages', '1:0', t)).toBe('Amina Okafor, Zoë');
      expect(Buffer.from(t).includes(Buffer.from('Amina'))).toBe(false);
      const e = await a.seal('outboxBlobs', 'i\u0000x', new Uint8Array(0));
      expect(e.length).toBe(1 + 12 + 16);
      expect((await b.open('outboxBlobs', 'i\u0000x', e)).length).toBe(0);
      const g = await a.seal('outboxBlobs', 'i\u0000photo.jpg', big);
      expect(Buffer.from(await b.open('outboxBlobs', 'i\u0000photo.jpg', g)).equals(Buffer.from(big))).toBe(
        true,
      );
    }
  });

  it('a fresh random IV per record, also from the pooled draws', async () => {
    const sync = new RecordCipher(await key(), crypto, nodeRecordAead);
    const ivs = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const s = sync.sealSync('casePages', '1:0', new Uint8Array([1, 2, 3]));
      ivs.add(Buffer.from(s.subarray(1, 13)).toString('hex'));
    }
    expect(ivs.size).toBe(300);
  });

  it('tampering, a moved record, another key, a non-record: typed record-integrity naming the record', async () => {
    const k = await key();
    const sync = new RecordCipher(k, crypto, nodeRecordAead);
    const web = new RecordCipher(k);
    const sealed = await web.sealText('caseSums', '1:4', 'Joseph Banda');
    for (let at = 0; at < sealed.length; at += 5) {
      const bad = sealed.slice();
      bad[at] = (bad[at] as number) ^ 0x01;
      expect(await codeOf(sync.openText('caseSums', '1:4', bad))).toBe('record-integrity caseSums/1:4');
    }
    expect(await codeOf(sync.openText('caseSums', '1:5', sealed))).toBe('record-integrity caseSums/1:5');
    expect(await codeOf(sync.openText('casePages', '1:4', sealed))).toBe('record-integrity casePages/1:4');
    expect(await codeOf(sync.openText('caseSums', '1:4', sealed.subarray(0, 20)))).toBe(
      'record-integrity caseSums/1:4',
    );
    const other = new RecordCipher(await key(), crypto, nodeRecordAead);
    expect(await codeOf(other.openText('caseSums', '1:4', sealed))).toBe('record-integrity caseSums/1:4');
    const fromSync = sync.sealSync('ledgers', 'k', new TextEncoder().encode('417'));
    fromSync[fromSync.length - 1] = (fromSync[fromSync.length - 1] as number) ^ 0x80;
    expect(await codeOf(web.open('ledgers', 'k', fromSync))).toBe('record-integrity ledgers/k');
  });

  it('a SQLite database sealed with WebCrypto opens, saves and reads back with node:crypto, and back', async () => {
    const store = SqliteStore.open(':memory:');
    stores.push(store);
    const k = await key();
    const unlocked = (deps: ReturnType<SqliteStore['deps']>): FieldsimDb => {
      const db = new FieldsimDb('aead', deps);
      db.vault.open(new RecordCipher(k));
      return db;
    };
    const { recordAead: _, ...webDeps } = store.deps();
    const old = unlocked(webDeps);
    expect(old.vault.cipher()?.synchronous).toBe(false);
    const cases = Array.from(
      { length: 40 },
      (_, i) =>
        `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01T10:00:00Z" user_id="u1"><create><case_type>patient</case_type><case_name>Name ${i}</case_name><owner_id>o1</owner_id></create></case>`,
    ).join('');
    await ingestRestore(
      old,
      fromString(
        `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>t1</restore_id></Sync><fixture id="f1" user_id="u1"><items><item>Clinic Secret</item></items></fixture>${cases}<ns0:balance xmlns:ns0="http://commcarehq.org/ledger/v1" entity-id="c0" date="2024-01-01" section-id="stock"><ns0:entry id="p1" quantity="417"/></ns0:balance></OpenRosaResponse>`,
      ),
      { mode: 'full', purge: false },
    );
    old.close();

    const now = unlocked(store.deps());
    expect(now.vault.cipher()?.synchronous).toBe(true);
    const nowCases = new CaseDb(now);
    expect(await nowCases.count()).toBe(40);
    expect((await nowCases.get('c17'))?.caseName).toBe('Name 17');
    expect((await getFixture(now, 'f1'))?.root.children[0]?.text).toBe('Clinic Secret');
    expect(await getLedger(now, 'c0')).toEqual([
      { sectionId: 'stock', entryId: 'p1', quantity: 417, date: '2024-01-01' },
    ]);
    await nowCases.applyBlocks([
      {
        caseId: 'c17',
        dateModified: '2024-02-01T00:00:00Z',
        userId: 'u1',
        actions: [{ kind: 'update', fields: [['village', 'Sealed-by-node']] }],
      },
    ]);
    now.close();

    const back = unlocked(webDeps);
    expect((await new CaseDb(back).get('c17'))?.properties.village).toBe('Sealed-by-node');
    back.close();
  });
});
