import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSyntheticCases } from '../../src/server/seed/synthetic.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/** Seeded cases come from case-import forms, as every case on HQ comes from a form. */
let emu: StartedEmulator;
const KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('case-import forms of seeded cases', () => {
  it('gives every demo and synthetic case its import form in xform_ids, 100 cases per form', async () => {
    const owner = emu.app.db
      .prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'")
      .pluck()
      .get() as string;
    seedSyntheticCases(emu.app.db, { domain: 'demo', ownerId: owner, count: 250 });
    const res = await fetch(`${emu.url}/a/demo/api/v0.5/case/?limit=1000`, {
      headers: { authorization: KEY },
    });
    const page = (await res.json()) as { objects: { id: string; xform_ids: string[] }[] };
    expect(page.objects.length).toBe(300);
    expect(page.objects.every((c) => c.xform_ids.length === 1)).toBe(true);
    const forms = emu.app.db
      .prepare(
        "SELECT form_id, xml FROM forms WHERE xmlns = 'http://commcarehq.org/case' AND state = 'normal'",
      )
      .all() as { form_id: string; xml: string }[];
    // 50 demo cases: one form; 250 synthetic: three.
    expect(forms).toHaveLength(4);
    const form = await fetch(`${emu.url}/a/demo/api/v0.5/form/${page.objects[0]!.xform_ids[0]}/`, {
      headers: { authorization: KEY },
    });
    expect(form.status).toBe(200);
  });

  it('rebuilds a seeded case from its import form to the state it was seeded with', () => {
    const repo = emu.app.hq.processor.cases;
    const ids = emu.app.db
      .prepare("SELECT case_id FROM cases WHERE domain = 'demo' AND case_type = 'member' LIMIT 3")
      .pluck()
      .all() as string[];
    for (const id of ids) {
      const before = repo.get(id)!;
      const rebuilt = emu.app.hq.processor.rebuildCase(id);
      expect(rebuilt).toBeDefined();
      const after = repo.get(id)!;
      for (const k of [
        'name',
        'caseType',
        'ownerId',
        'closed',
        'openedOn',
        'properties',
        'indices',
        'externalId',
      ] as const)
        expect(after[k], `${id} ${k}`).toEqual(before[k]);
    }
  });
});
