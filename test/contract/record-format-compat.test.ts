import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/core/crypto/crypto-error.ts';
import { importDataKeyBytes } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { openOutboxRow, sealOutboxRow } from '../../src/core/outbox/outbox-seal.ts';
import type { OutboxRow } from '../../src/core/outbox/outbox-store.ts';
import { openPage } from '../../src/core/store/sealed-rows.ts';
import { nodeRecordAead } from '../../src/node-store/node-record-aead.ts';

/**
 * The stored record format does not change with the synchronous sealing path of session 7
 * (RecordCipher.sealTextSync: plaintext and additional data encoded into a scratch buffer):
 * records written before it still open, and what it writes opens with WebCrypto (the
 * browser's path) as before. The two records below were sealed by the code before that
 * change, under the key bytes `i * 7 + 1`.
 */

const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const OLD_PAGE =
  '010ba7559a5292fee8302cbe03713707b25b045204574606b9f67438b6e8c260d0e4d7efe1f010cc762f77212eb8714954de7ed9a43830890b8fa6a07e47dd45c057e0618c0a3d7eb3b672e54aa20c1448b61dde425949d7b346';
const OLD_ROW =
  '016656454fe447bd0fced452d9c8dc12c5d3be9da91d2016f989ea061dd9d7524ce944a0e7c8cd4a981746f51d64e28169fd0a7d78c20901f905ffacbc2bf20f649cb4d6490490e3702b61071a06941563eda324440aa95af14e82ec352cd81ab07f80918baeda576e1672804574b38ec24ba47641cfcc97b7f12167cb054aefc6f239c045ed7d';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

async function ciphers(): Promise<{ node: RecordCipher; web: RecordCipher }> {
  const key = await importDataKeyBytes(KEY);
  return { node: new RecordCipher(key, crypto, nodeRecordAead), web: new RecordCipher(key) };
}

describe('encrypted record format across the session 7 sealing change', () => {
  it('records sealed before it open with node:crypto and with WebCrypto', async () => {
    const { node, web } = await ciphers();
    expect(node.synchronous).toBe(true);
    expect(web.synchronous).toBe(false);
    for (const c of [node, web]) {
      expect(await openPage(c, { gen: 2, page: 3, enc: bytes(OLD_PAGE) })).toEqual({
        gen: 2,
        page: 3,
        ids: ['case-a', 'case-é'],
        data: ['{"n":"Zanele Dlamini"}', '{"n":"Ünal ☃"}'],
      });
      const row = await openOutboxRow(c, {
        instanceId: 'inst-1',
        seq: 4,
        state: 'queued',
        createdAt: 5,
        xml: '',
        formName: '',
        caseIds: [],
        attachments: [],
        enc: bytes(OLD_ROW),
      } as unknown as OutboxRow);
      expect(row).toMatchObject({
        xml: '<data>é</data>',
        formName: 'Visit',
        caseIds: ['case-a'],
        draftJson: '{"q":1}',
      });
      // Bound to its table and key: the same bytes as another record fail.
      await expect(c.openText('casePages', '2:4', bytes(OLD_PAGE))).rejects.toBeInstanceOf(CryptoError);
    }
  });

  it('records sealed now have the same layout and open with WebCrypto, whatever their text', async () => {
    const { node, web } = await ciphers();
    // Up to the scratch buffer's limit and past it (a record of its own), then short again.
    const texts = [
      '',
      'Amina',
      'é☃'.repeat(3000),
      `${'x'.repeat(40_000)}😀`,
      'ü'.repeat(100_000),
      'short again',
      '\u0000\n',
    ];
    const sealed: Uint8Array[] = [];
    for (const t of texts) {
      const s = await node.sealText('caseSums', `1:${t.length}`, t);
      expect(s[0]).toBe(1);
      expect(s.length).toBe(1 + 12 + Buffer.byteLength(t) + 16);
      expect(await web.openText('caseSums', `1:${t.length}`, s)).toBe(t);
      expect(await node.openText('caseSums', `1:${t.length}`, s)).toBe(t);
      await expect(web.openText('caseSums', `1:${t.length + 1}`, s)).rejects.toMatchObject({
        code: 'record-integrity',
      });
      await expect(web.openText('casePages', `1:${t.length}`, s)).rejects.toMatchObject({
        code: 'record-integrity',
      });
      sealed.push(s);
    }
    // A record is never a view on the scratch buffer: later seals leave it as it was.
    expect(await web.openText('caseSums', '1:5', sealed[1] as Uint8Array)).toBe('Amina');
    expect(new Set(sealed.map((s) => Buffer.from(s.subarray(1, 13)).toString('hex'))).size).toBe(
      texts.length,
    );
    // And WebCrypto's records open with node:crypto.
    const w = await web.sealJson('outbox', 'i', { a: 'é' });
    expect(await node.openJson('outbox', 'i', w)).toEqual({ a: 'é' });
  });

  it('an outbox row keeps its clear fields; the form, and a draft, only sealed', async () => {
    const { node } = await ciphers();
    const base = {
      instanceId: 'inst-2',
      state: 'queued',
      createdAt: 7,
      attempts: 0,
      xml: '<data>Zanele</data>',
      formName: 'Visit',
      caseIds: ['c1'],
      attachments: [],
    } as unknown as OutboxRow;
    const plain = await sealOutboxRow(node, base);
    expect(Object.keys(plain).sort()).toEqual(
      [
        'attachments',
        'attempts',
        'caseIds',
        'createdAt',
        'enc',
        'formName',
        'instanceId',
        'state',
        'xml',
      ].sort(),
    );
    expect(plain).toMatchObject({ xml: '', formName: '', caseIds: [], attachments: [], state: 'queued' });
    expect(await openOutboxRow(node, plain)).toEqual({ ...base });
    const draft = await sealOutboxRow(node, {
      ...base,
      state: 'incomplete',
      draftJson: '{"q":"Zanele"}',
    } as OutboxRow);
    expect('draftJson' in draft).toBe(false);
    expect(Buffer.from(draft.enc as Uint8Array).includes(Buffer.from('Zanele'))).toBe(false);
    expect((await openOutboxRow(node, draft)).draftJson).toBe('{"q":"Zanele"}');
    expect(base).toMatchObject({ xml: '<data>Zanele</data>' });
  });
});
