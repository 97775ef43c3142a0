/**
 * Synthetic restore payloads for the restore benchmarks: about 670 bytes per case, 10%
 * households and 90% members indexing a household as `parent` (DESIGN.md section 8).
 * Pure TypeScript with no Node APIs, so the Chromium benchmark bundles the same code.
 */

export const SYNTH_USER = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const SYNTH_GROUP = 'feedbeefcafe00112233445566778899';

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0').slice(-len);
}

/** A deterministic uuid-shaped id. */
export function synthId(i: number): string {
  const h = hex(Math.imul(i + 1, 2654435761) >>> 0, 8);
  return `${h}-${hex(i, 4)}-4${hex(i >>> 4, 3)}-8${hex(i >>> 8, 3)}-${hex(i, 12)}`;
}

const NOTES = 'Visited during the quarterly round; household reports good access to water and the clinic. ';

export function synthCaseXml(i: number, households: number): string {
  const isHouse = i < households;
  const id = synthId(i);
  const owner = i % 3 === 0 ? SYNTH_GROUP : SYNTH_USER;
  const type = isHouse ? 'household' : 'member';
  const name = isHouse ? `Household ${i}` : `Member ${(i * 7919) % 1_000_003}`;
  let s = `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${id}" date_modified="2024-05-${hex((i % 28) + 1, 2).replace(/[a-f]/g, '1')}T10:00:00.000000Z" user_id="${SYNTH_USER}">`;
  s += `<create><case_type>${type}</case_type><case_name>${name}</case_name><owner_id>${owner}</owner_id></create>`;
  s += `<update><date_opened>2024-05-01</date_opened><age>${i % 90}</age><sex>${i % 2 ? 'female' : 'male'}</sex><phone>+2547${hex(i, 8)}</phone><village>Village ${i % 50}</village><dob>19${10 + (i % 89)}-0${(i % 9) + 1}-1${i % 9}</dob><status>active</status><visit_count>${i % 7}</visit_count><notes>${NOTES.slice(0, 31)}</notes></update>`;
  if (!isHouse) s += `<index><parent case_type="household">${synthId(i % households)}</parent></index>`;
  return `${s}</case>`;
}

/** The payload as UTF-8 chunks of about 64 KB, like a network body. */
export function synthRestoreChunks(cases: number): { chunks: Uint8Array[]; bytes: number } {
  const enc = new TextEncoder();
  const households = Math.max(1, Math.round(cases / 10));
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let buf =
    `<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="${cases + 4}">` +
    '<message nature="ota_restore_success">Successfully restored account bench!</message>' +
    '<Sync xmlns="http://commcarehq.org/sync"><restore_id>bench-token</restore_id></Sync>' +
    `<Registration xmlns="http://openrosa.org/user/registration"><username>bench</username><password>x</password><uuid>${SYNTH_USER}</uuid><date>2024-01-01</date></Registration>` +
    `<fixture id="user-groups" user_id="${SYNTH_USER}"><groups><group id="${SYNTH_GROUP}"><name>G</name></group></groups></fixture>`;
  for (let i = 0; i < cases; i++) {
    buf += synthCaseXml(i, households);
    if (buf.length > 64 * 1024) {
      const b = enc.encode(buf);
      chunks.push(b);
      bytes += b.length;
      buf = '';
    }
  }
  const last = enc.encode(`${buf}</OpenRosaResponse>`);
  chunks.push(last);
  bytes += last.length;
  return { chunks, bytes };
}

export function streamOfChunks(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctrl) {
      const c = chunks[i++];
      if (c === undefined) ctrl.close();
      else ctrl.enqueue(c);
    },
  });
}
