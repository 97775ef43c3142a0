import { describe, expect, it } from 'vitest';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { openPage, sealPage } from '../../../src/core/store/sealed-rows.ts';
import { nodeRecordAead } from '../../../src/node-store/node-record-aead.ts';

/**
 * A page is sealed from its lines (RecordCipher.sealText with an array) rather than from
 * its joined text: the plaintext stored must stay the text it always was, ids as JSON,
 * then one case per line (an empty page: its ids and a line break), on either path.
 */
describe('sealPage', () => {
  const pages = [
    { gen: 1, page: 0, ids: ['a', 'b'], data: ['{"n":"Amina Okafor"}', '{"n":"Joseph Banda é ☃ 𝄞"}'] },
    { gen: 1, page: 1, ids: [], data: [] },
    { gen: 2, page: 7, ids: ['only'], data: ['{}'] },
    // Larger than the cipher's scratch buffer: sealed from the joined text instead.
    { gen: 2, page: 8, ids: ['big'], data: [`{"x":"${'y'.repeat(300 * 1024)}"}`] },
  ];

  it('stores the same plaintext as the joined text, and opens to the same page, on both paths', async () => {
    const key = (await createDataKey('pw', { iterations: 1000 })).key;
    for (const c of [new RecordCipher(key), new RecordCipher(key, crypto, nodeRecordAead)]) {
      const sealed = await Promise.all(pages.map((p) => sealPage(c, p)));
      for (const [i, p] of pages.entries()) {
        const row = sealed[i];
        if (row === undefined) throw new Error('missing row');
        expect(await c.openText('casePages', `${p.gen}:${p.page}`, row.enc)).toBe(
          `${JSON.stringify(p.ids)}\n${p.data.join('\n')}`,
        );
        expect(await openPage(c, row)).toEqual(p);
      }
    }
  });
});
