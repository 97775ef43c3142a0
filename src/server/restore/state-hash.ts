import { createHash } from 'node:crypto';

/**
 * Case-state hash (`CaseStateHash`/`Checksum`, hq:.../casexml/apps/phone/checksum.py):
 * hex of the byte-wise XOR of MD5(case_id) over all case ids; '' for no cases.
 */
export function caseStateHash(caseIds: Iterable<string>): string {
  const acc = Buffer.alloc(16);
  let any = false;
  for (const id of caseIds) {
    const d = createHash('md5').update(id, 'utf8').digest();
    for (let i = 0; i < 16; i++) acc[i]! ^= d[i]!;
    any = true;
  }
  return any ? acc.toString('hex') : '';
}
