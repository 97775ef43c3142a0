import { describe, expect, it } from 'vitest';
import {
  MultipartError,
  MultipartStream,
  PartRefusedError,
  PartTooLargeError,
} from '../../src/server/receiver/multipart-stream.ts';
import { UploadBudget, UploadBudgetError } from '../../src/server/receiver/upload-budget.ts';
import { startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm } from './helpers.ts';

const B = 'b0undary';
const body =
  `preamble\r\n--${B}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="form.xml"\r\n` +
  `Content-Type: text/xml\r\n\r\n<data>\r\n--other-b0undary</data>\r\n--${B}  \r\n` +
  `Content-Disposition: form-data; name="photo.jpg"; filename*=UTF-8''%C3%A9t%C3%A9.jpg\r\nContent-Type: image/jpeg\r\n\r\n` +
  `\u00ff\u00d8\r\n--${B}--\r\nepilogue`;

function feed(bytes: Buffer, split: number[], limit = 1 << 20): MultipartStream {
  const s = new MultipartStream(B, () => limit);
  let at = 0;
  for (const n of [...split, bytes.byteLength]) {
    s.push(bytes.subarray(at, Math.max(at, n)));
    at = Math.max(at, n);
  }
  return s;
}

describe('streaming multipart reader', () => {
  it('reads the same parts whatever the chunk boundaries', () => {
    const bytes = Buffer.from(body, 'latin1');
    const whole = feed(bytes, []).end();
    expect(whole.map((p) => [p.name, p.filename, p.type])).toEqual([
      ['xml_submission_file', 'form.xml', 'text/xml'],
      ['photo.jpg', 'été.jpg', 'image/jpeg'],
    ]);
    expect(whole[0]!.data.toString('latin1')).toBe(`<data>\r\n--other-b0undary</data>`);
    expect([...whole[1]!.data]).toEqual([0xff, 0xd8]);
    for (let cut = 1; cut < bytes.byteLength; cut++) {
      const parts = feed(bytes, [cut]).end();
      expect(parts.map((p) => p.data.toString('latin1'))).toEqual(
        whole.map((p) => p.data.toString('latin1')),
      );
    }
    // One byte at a time.
    const bytewise = feed(
      bytes,
      Array.from({ length: bytes.byteLength }, (_, i) => i),
    ).end();
    expect(bytewise.map((p) => p.name)).toEqual(whole.map((p) => p.name));
  });

  it('stops at the first part over its limit, before the part has ended', () => {
    const s = new MultipartStream(B, (h) => (h.name === 'big' ? 10 : 1000));
    s.push(
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="big"; filename="a.jpg"\r\n\r\n12345`),
    );
    expect(() => s.push(Buffer.from('6789012345678901234567890'))).toThrow(PartTooLargeError);
  });

  it('lets the caller refuse a part from its headers', () => {
    const s = new MultipartStream(B, () => {
      throw new PartRefusedError('no fields');
    });
    expect(() => s.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="f"\r\n\r\nx`))).toThrow(
      PartRefusedError,
    );
  });

  it('refuses what it cannot read with a typed error', () => {
    const bad = (text: string) => () => feed(Buffer.from(text), []).end();
    expect(bad(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx`)).toThrow(MultipartError);
    expect(bad(`--${B}\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nx\r\n--${B}--`)).toThrow(
      MultipartError,
    );
    expect(bad(`--${B}\r\nContent-Type: text/xml\r\n\r\nx\r\n--${B}--`)).toThrow(MultipartError);
    expect(bad(`--${B}X\r\n`)).toThrow(MultipartError);
    expect(bad(`${'x'.repeat(70_000)}`)).toThrow(MultipartError);
  });
});

describe('upload budget', () => {
  it('gives bytes back on release, and refuses past its capacity', () => {
    const budget = new UploadBudget(100);
    const a = budget.lease();
    const b = budget.lease();
    a.take(60);
    expect(() => b.take(50)).toThrow(UploadBudgetError);
    a.release();
    a.release();
    b.take(50);
    expect(budget.used).toBe(50);
    expect(budget.peak).toBe(60);
  });

  it('answers 503 with Retry-After when uploads in flight hold the whole budget, then serves again', async () => {
    const emu = await startEmulator({ settings: { uploadBudgetBytes: 64 * 1024 } });
    try {
      const form = (id: string, photo: number) => {
        const fd = new FormData();
        const xml = caseForm({
          instanceId: id,
          caseId: `c-${id}`,
          body: '<create><case_type>t</case_type><case_name>n</case_name></create>',
        });
        fd.append('xml_submission_file', new Blob([xml], { type: 'text/xml' }), 'form.xml');
        if (photo > 0)
          fd.append('photo.jpg', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
        return fetch(`${emu.url}/a/demo/receiver/`, {
          method: 'POST',
          body: fd,
          headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
        });
      };
      const over = await form('too-much', 100 * 1024);
      expect(over.status).toBe(503);
      expect(over.headers.get('retry-after')).toBe('1');
      expect(await over.text()).toContain('retry later');
      expect(emu.app.hq.processor.cases.get('c-too-much')).toBeUndefined();
      const ok = await form('fits', 10 * 1024);
      expect(ok.status).toBe(201);
      expect(emu.app.hq.processor.cases.get('c-fits')?.name).toBe('n');
    } finally {
      await emu.close();
    }
  });
});
