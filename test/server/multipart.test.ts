import { describe, expect, it } from 'vitest';
import { multipartBoundary, parseMultipart } from '../../src/server/receiver/multipart.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A FormData body exactly as undici (fetch) puts it on the wire, with its content type. */
async function wire(fd: FormData): Promise<{ body: Uint8Array<ArrayBuffer>; type: string }> {
  const r = new Request('http://x/', { method: 'POST', body: fd });
  return { body: new Uint8Array(await r.arrayBuffer()), type: r.headers.get('content-type') ?? '' };
}

function parse(body: string, boundary = 'b0undary') {
  return parseMultipart(enc.encode(body), boundary);
}

describe('lean multipart reader', () => {
  it('reads what fetch sends, as the platform parser does', async () => {
    const fd = new FormData();
    const xml = '<data xmlns="http://x/y">é 𝄞 \r\n--not-a-boundary</data>';
    fd.append('xml_submission_file', new Blob([xml], { type: 'text/xml' }), 'form.xml');
    const photo = new Uint8Array([0xff, 0xd8, 0, 13, 10, 45, 45, 1]);
    fd.append('photo "1".jpg', new Blob([photo], { type: 'image/jpeg' }), 'photo "1".jpg');
    fd.append('note', 'plain field');
    const { body, type } = await wire(fd);
    const boundary = multipartBoundary(type);
    expect(boundary).toBeDefined();
    const parts = parseMultipart(body, boundary!)!;
    const platform = [
      ...(
        await new Request('http://x/', { method: 'POST', body, headers: { 'content-type': type } }).formData()
      ).entries(),
    ];
    expect(parts.map((p) => p.name)).toEqual(platform.map(([n]) => n));
    expect(parts[0]).toMatchObject({ name: 'xml_submission_file', filename: 'form.xml', type: 'text/xml' });
    expect(dec.decode(parts[0]!.data)).toBe(xml);
    expect(parts[1]!.filename).toBe((platform[1]![1] as File).name);
    expect(parts[1]!.type).toBe('image/jpeg');
    expect(new Uint8Array(parts[1]!.data)).toEqual(photo);
    expect(parts[2]).toMatchObject({ name: 'note', filename: undefined });
    expect(dec.decode(parts[2]!.data)).toBe('plain field');
  });

  it('takes the boundary as a token or a quoted string', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc-123')).toBe('abc-123');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
    expect(multipartBoundary('multipart/form-data')).toBeUndefined();
  });

  it('skips a preamble and an epilogue, and reads an empty part', () => {
    const parts = parse(
      'preamble text\r\n--b0undary\r\nContent-Disposition: form-data; name="a"; filename="a.xml"\r\n\r\n' +
        '\r\n--b0undary--\r\nepilogue',
    )!;
    expect(parts).toHaveLength(1);
    expect(parts[0]!.data.byteLength).toBe(0);
  });

  it('leaves what it does not fully understand to the platform parser', () => {
    const part = (headers: string) => `--b0undary\r\n${headers}\r\n\r\nx\r\n--b0undary--\r\n`;
    // No closing delimiter.
    expect(parse('--b0undary\r\nContent-Disposition: form-data; name="a"\r\n\r\nx')).toBeUndefined();
    // RFC 5987 extended file name.
    expect(
      parse(part('Content-Disposition: form-data; name="a"; filename*=UTF-8\'\'%C3%A9.xml')),
    ).toBeUndefined();
    // Folded header line.
    expect(parse(part('Content-Disposition: form-data;\r\n name="a"'))).toBeUndefined();
    // Not form-data, or no name.
    expect(parse(part('Content-Disposition: attachment; name="a"'))).toBeUndefined();
    expect(parse(part('Content-Type: text/xml'))).toBeUndefined();
    // Garbage after a delimiter.
    expect(
      parse('--b0undaryX\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b0undary--'),
    ).toBeUndefined();
  });
});

describe('receiver multipart bodies', () => {
  it('reads parameters in any order (as Django, under HQ, does) and refuses what no parser reads', async () => {
    const { startEmulator } = await import('../helpers/start-emulator.ts');
    const { basic, caseForm } = await import('./helpers.ts');
    const emu = await startEmulator();
    const post = (disposition: string, xml: string) =>
      fetch(`${emu.url}/a/demo/receiver/`, {
        method: 'POST',
        body: `--b0undary\r\n${disposition}\r\nContent-Type: text/xml\r\n\r\n${xml}\r\n--b0undary--\r\n`,
        headers: {
          authorization: basic('worker1'),
          'content-type': 'multipart/form-data; boundary=b0undary',
        },
      });
    try {
      const xml = caseForm({
        instanceId: 'order-1',
        caseId: 'order-case',
        body: '<create><case_type>t</case_type><case_name>Any order</case_name></create>',
      });
      const r1 = await post(
        'Content-Disposition: form-data; filename="form.xml"; name="xml_submission_file"',
        xml,
      );
      expect(r1.status).toBe(201);
      expect(emu.app.hq.processor.cases.get('order-case')?.name).toBe('Any order');
      // A folded header: neither the lean reader nor the platform parser reads it.
      const r2 = await post(
        'Content-Disposition: form-data; name="xml_submission_file";\r\n filename="form.xml"',
        xml,
      );
      expect(r2.status).toBe(400);
      expect(await r2.text()).toBe('Could not read the multipart body');
    } finally {
      await emu.close();
    }
  });
});

describe('receiver body reading', () => {
  it('survives a client that goes away mid-body, and keeps serving', async () => {
    const { startEmulator } = await import('../helpers/start-emulator.ts');
    const { basic } = await import('./helpers.ts');
    const net = await import('node:net');
    const emu = await startEmulator();
    try {
      const { hostname, port } = new URL(emu.url);
      // Announce 10,000 bytes, send 100, then close the connection.
      await new Promise<void>((done, fail) => {
        const s = net.connect(Number(port), hostname, () => {
          s.write(
            `POST /a/demo/receiver/ HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${basic('worker1')}\r\n` +
              'Content-Type: text/xml\r\nContent-Length: 10000\r\n\r\n' +
              '<data xmlns="x">'.padEnd(100, ' '),
          );
          setTimeout(() => s.destroy(), 50);
        });
        s.on('close', () => done());
        s.on('error', fail);
      });
      const res = await fetch(`${emu.url}/a/demo/receiver/`, {
        method: 'POST',
        body: '<data xmlns="http://x/y"><meta><instanceID>after-abort</instanceID></meta></data>',
        headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
      });
      expect(res.status).toBe(201);
    } finally {
      await emu.close();
    }
  });
});
