import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newCase } from '../../src/server/casexml/process-cases.ts';
import { CaseRepo } from '../../src/server/db/cases.ts';
import { createEmulator } from '../../src/server/emulator.ts';
import { liveQuery } from '../../src/server/restore/generate.ts';
import { computeLiveSet, type GraphNode } from '../../src/server/restore/live-set.ts';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('liveQuery on random case graphs', () => {
  it('selects exactly what the live-set rules select (child-only graphs take the lean path)', () => {
    const emu = createEmulator({ dataDir: mkdtempSync(join(tmpdir(), 'fieldsim-lq-')), seed: false });
    try {
      const repo = new CaseRepo(emu.db);
      for (let seed = 1; seed <= 40; seed++) {
        emu.db.exec('DELETE FROM cases; DELETE FROM case_indices');
        const rnd = prng(seed);
        const n = 30;
        const withExtensions = seed % 4 === 0;
        const nodes = new Map<string, GraphNode>();
        emu.db.transaction(() => {
          for (let i = 0; i < n; i++) {
            const id = `s${seed}-c${i}`;
            const c = newCase(id, {
              formId: '',
              formUserId: '',
              receivedOn: '',
              now: '2026-01-01T00:00:00.000Z',
              domain: 'd',
            });
            c.ownerId = rnd() < 0.5 ? 'me' : rnd() < 0.5 ? 'team' : 'other';
            c.closed = rnd() < 0.25;
            c.modifiedOn = '2026-01-01T00:00:00.000Z';
            const edges: GraphNode['edges'] = [];
            for (const identifier of ['parent', 'host']) {
              if (rnd() < 0.5) continue;
              // Targets: an earlier case, or now and then one that does not exist.
              const target = rnd() < 0.08 ? `s${seed}-missing` : `s${seed}-c${Math.floor(rnd() * n)}`;
              const relationship = identifier === 'host' && withExtensions ? 'extension' : 'child';
              c.indices.push({ identifier, caseType: 't', caseId: target, relationship });
              edges.push({ target, relationship });
            }
            repo.save(c);
            nodes.set(id, { owned: c.ownerId === 'me' || c.ownerId === 'team', closed: c.closed, edges });
          }
        })();
        const { live } = liveQuery(emu.db, 'd', ['me', 'team']);
        expect([...live].sort(), `seed ${seed}`).toEqual([...computeLiveSet(nodes)].sort());
      }
    } finally {
      emu.close({ removeData: true });
    }
  });
});
