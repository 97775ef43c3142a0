import { describe, expect, it } from 'vitest';
import { writeCaseBlock } from '../../src/core/protocol/casexml/case-block-writer.ts';
import {
  fromRaw,
  type RawCase,
  restoreCaseBlock,
  restoreCaseXml,
} from '../../src/server/restore/generate.ts';

/** The general path: row -> case -> block -> writer. */
function general(r: RawCase, create: boolean): string {
  return writeCaseBlock(restoreCaseBlock(fromRaw(r), create));
}

const rows: RawCase[] = [
  [
    'c1',
    'household',
    'Home & <garden>',
    'o1',
    0,
    '2026-01-02T00:00:00.000Z',
    '2026-01-03T04:05:06.789Z',
    'u1',
    '',
    '{}',
    '[]',
  ],
  [
    'c2',
    'member',
    '',
    'o1',
    1,
    null,
    '',
    '',
    'ext "1"',
    '{"age":"","note":"a\\u0001b 𝄞 é","z":"1","a":"2"}',
    '[]',
  ],
  [
    'c3',
    'member',
    'Kid',
    'o2',
    0,
    '2026-01-02T10:00:00.000Z',
    '2026-01-03T04:05:06.000Z',
    'u2',
    '',
    '{"b_2.x-y":"dots","x":"y"}',
    JSON.stringify([
      { identifier: 'parent', caseType: 'household', caseId: 'c1', relationship: 'child' },
      { identifier: 'host', caseType: 'household', caseId: 'c&1', relationship: 'extension' },
      { identifier: 'mother', caseType: 'member', caseId: 'c2', relationship: 'child' },
    ]),
  ],
];

describe('restore case blocks written straight from rows', () => {
  it('are byte for byte what the general writer produces', () => {
    for (const r of rows)
      for (const create of [true, false]) expect(restoreCaseXml(r, create)).toBe(general(r, create));
  });

  it('leave rows with names that are not XML names to the general path', () => {
    const bad: RawCase = ['c4', 't', 'n', 'o', 0, null, '', 'u', '', '{"bad name":"x"}', '[]'];
    expect(restoreCaseXml(bad, true)).toBeUndefined();
    const badIndex: RawCase = [
      'c5',
      't',
      'n',
      'o',
      0,
      null,
      '',
      'u',
      '',
      '{}',
      JSON.stringify([{ identifier: '1x', caseType: 't', caseId: 'c1', relationship: 'child' }]),
    ];
    expect(restoreCaseXml(badIndex, true)).toBeUndefined();
  });
});
