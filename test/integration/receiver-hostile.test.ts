import http from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../src/server/db/database.ts';
import { type SpawnedEmulator, spawnEmulator } from '../helpers/spawn-emulator.ts';
import { basic, caseForm } from '../server/helpers.ts';

/**
 * Hostile submissions against the emulator in its own process (issue 16, part 3): each is
 * refused with a 4xx/503 after well under a second of the server's CPU, its memory stays
 * bounded, nothing is stored, and an ordinary form is still served meanwhile.
 */
const BOUNDARY = 'h0stile-b0undary';
let emu: SpawnedEmulator;

beforeAll(async () => {
  emu = await spawnEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
  ms: number;
}

/**
 * POSTs to the receiver with node:http: `head` first, then `fill` bytes (streamed from
 * one shared buffer, never held whole), then `tail`, stopping as soon as the server
 * answers, as a client should when refused early.
 */
function post(head: Buffer, fill = 0, tail: Buffer = Buffer.alloc(0)): Promise<Answer> {
  const u = new URL(emu.url);
  const t0 = performance.now();
  const length = head.byteLength + fill + tail.byteLength;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/a/demo/receiver/',
        method: 'POST',
        agent: false,
        headers: {
          authorization: basic('worker1'),
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': length,
          'x-openrosa-version': '3.0',
        },
      },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text, headers: res.headers, ms: performance.now() - t0 });
          req.destroy();
        });
      },
    );
    // The server may close the connection once it has answered; that is the point.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const block = Buffer.alloc(1024 * 1024, 0x41);
    let left = fill;
    const pump = () => {
      while (!answered && left > 0) {
        const n = Math.min(left, block.byteLength);
        left -= n;
        if (!req.write(n === block.byteLength ? block : block.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && left === 0) req.end(tail);
    };
    req.write(head);
    pump();
  });
}

function xmlPart(xml: string): Buffer {
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="form.xml"\r\n` +
      `Content-Type: text/xml\r\n\r\n${xml}\r\n`,
  );
}

const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);

function formCount(): number {
  const db = new Database(join(emu.dataDir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM forms').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function ordinaryForm(id: string): Promise<number> {
  const fd = new FormData();
  const xml = caseForm({
    instanceId: id,
    caseId: `case-${id}`,
    body: '<create><case_type>t</case_type><case_name>Still served</case_name></create>',
  });
  fd.append('xml_submission_file', new Blob([xml], { type: 'text/xml' }), 'form.xml');
  const r = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: fd,
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
  });
  await r.arrayBuffer();
  return r.status;
}

describe('receiver under hostile input (emulator in its own process)', () => {
  it('refuses 100k nested elements with 413 in well under a second of server CPU, storing nothing', async () => {
    expect(await ordinaryForm('warm-up')).toBe(201);
    const before = formCount();
    const depth = 100_000;
    const xml = `<data xmlns="http://x/deep">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</data>`;
    const cpu0 = emu.usage().cpuMs;
    const r = await post(Buffer.concat([xmlPart(xml), CLOSE]));
    const cpu = emu.usage().cpuMs - cpu0;
    expect(r.status).toBe(413);
    expect(r.text).toContain('xml-too-large');
    expect(r.text).toContain('nested too deeply');
    expect(cpu).toBeLessThan(1000);
    expect(formCount()).toBe(before);
    expect(await ordinaryForm('after-deep')).toBe(201);
  });

  it('refuses a flood of 2.5M empty elements with 413, quickly and in bounded memory', async () => {
    const before = formCount();
    const xml = `<data xmlns="http://x/flood">${'<a/>'.repeat(2_500_000)}</data>`;
    const { rssMb } = emu.usage();
    const cpu0 = emu.usage().cpuMs;
    const r = await post(Buffer.concat([xmlPart(xml), CLOSE]));
    const after = emu.usage();
    expect(r.status).toBe(413);
    expect(r.text).toContain('too many elements');
    expect(after.cpuMs - cpu0).toBeLessThan(1000);
    // The 10 MB body, its string and the tree up to the element limit: well under 1 GB.
    expect(after.peakRssMb - rssMb).toBeLessThan(250);
    expect(formCount()).toBe(before);
  });

  it('answers 16 parallel 150 MB uploads (413 or 503) within the upload budget while serving other forms', async () => {
    const before = formCount();
    const base = emu.usage();
    const head = Buffer.concat([
      xmlPart(caseForm({ instanceId: 'big', caseId: 'big', body: '<update><x>1</x></update>' })),
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photo.jpg"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
    ]);
    const uploads = Array.from({ length: 16 }, () =>
      post(head, 150 * 1024 * 1024, Buffer.concat([Buffer.from('\r\n'), CLOSE])),
    );
    // An ordinary form in the middle of the burst is stored as usual.
    const ordinary = await ordinaryForm('during-burst');
    const answers = await Promise.all(uploads);
    const after = emu.usage();
    expect(ordinary).toBe(201);
    for (const a of answers) {
      expect([413, 503]).toContain(a.status);
      if (a.status === 503) expect(a.headers['retry-after']).toBe('1');
      else expect(a.text).toBe('Attachment exceeds 15MB size limit');
    }
    // Each is refused after at most its first 15 MB; the budget (192 MB) caps what all
    // of them hold together. 16 whole bodies would have been 2.4 GB.
    expect(after.peakRssMb - base.rssMb).toBeLessThan(450);
    expect(after.cpuMs - base.cpuMs).toBeLessThan(16 * 1000);
    expect(formCount()).toBe(before + 1);
    expect(await ordinaryForm('after-burst')).toBe(201);
  });
});
