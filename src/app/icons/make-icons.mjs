// Writes the PWA icons in public/icons/ as plain PNGs (no downloads, no image library):
// a teal square with a white "f"-like mark built from rectangles. Run once with
// `node src/app/icons/make-icons.mjs`; the PNGs are committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x / size, y / size);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const TEAL = [15, 118, 110, 255];
const WHITE = [255, 255, 255, 255];
// Mark inside the maskable safe zone (central 80%): a stem and two bars, plus a dot (a "worker with a form").
function mark(x, y, scale) {
  const c = (v) => 0.5 + (v - 0.5) / scale;
  const X = c(x);
  const Y = c(y);
  const inRect = (x0, y0, x1, y1) => X >= x0 && X < x1 && Y >= y0 && Y < y1;
  return (
    inRect(0.36, 0.25, 0.46, 0.76) ||
    inRect(0.36, 0.25, 0.66, 0.34) ||
    inRect(0.36, 0.46, 0.6, 0.55) ||
    (X - 0.64) ** 2 + (Y - 0.7) ** 2 < 0.06 ** 2
  );
}
function rounded(x, y, r) {
  const dx = Math.max(r - x, 0, x - (1 - r));
  const dy = Math.max(r - y, 0, y - (1 - r));
  return dx * dx + dy * dy <= r * r;
}
for (const size of [192, 512]) {
  writeFileSync(
    new URL(`../../../public/icons/icon-${size}.png`, import.meta.url),
    png(size, (x, y) => (rounded(x, y, 0.18) ? (mark(x, y, 1) ? WHITE : TEAL) : [0, 0, 0, 0])),
  );
}
// Maskable: full bleed, mark shrunk into the safe zone.
writeFileSync(
  new URL('../../../public/icons/maskable-512.png', import.meta.url),
  png(512, (x, y) => (mark(x, y, 0.8) ? WHITE : TEAL)),
);
writeFileSync(
  new URL('../../../public/icons/apple-touch-icon-180.png', import.meta.url),
  png(180, (x, y) => (mark(x, y, 0.9) ? WHITE : TEAL)),
);
