import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/core/outbox/outbox.ts';
import { createInProcessLock } from '../../../src/core/platform.ts';
import { readForm } from '../../../src/core/protocol/submission/read-form.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { form, freshDb, metaApplier } from './outbox-fixtures.ts';

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const CASE = 'http://commcarehq.org/case/transaction/v2';
const deep = (n: number) => `<data xmlns="x">${'<g>'.repeat(n)}${'</g>'.repeat(n)}</data>`;

function caught(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('form instances read whole are bounded (outbox import, saved forms)', () => {
  it('100k nested elements: a typed xml-too-large error at once, no stack overflow', () => {
    const t = performance.now();
    const e = caught(() => readForm(deep(100_000)));
    expect(performance.now() - t).toBeLessThan(1000);
    expect(e.code).toBe('xml-too-large');
    expect(e.message).toContain('deeper than 128 levels');
  });

  it('an element with too many children or attributes', () => {
    const wide = `<data xmlns="x"><case xmlns="${CASE}" case_id="c"><update>${'<p/>'.repeat(100_001)}</update></case></data>`;
    expect(caught(() => readForm(wide))).toMatchObject({ code: 'xml-too-large' });
    expect(caught(() => readForm(wide)).message).toContain('<update> with more than 100000 children');
    const attrs = Array.from({ length: 300 }, (_, i) => ` a${i}="1"`).join('');
    expect(caught(() => readForm(`<data xmlns="x"><q${attrs}/></data>`)).message).toContain(
      'more than 256 attributes',
    );
  });

  it('a real form nesting groups and repeats still reads', () => {
    const nested = `<data xmlns="x">${'<g>'.repeat(30)}<case xmlns="${CASE}" case_id="c1"><update><p>v</p></update></case>${'</g>'.repeat(30)}</data>`;
    expect(readForm(nested).caseBlocks.map((b) => b.caseId)).toEqual(['c1']);
  });

  it('importForms reports the deep form as failed with the typed message and imports the others', async () => {
    const db = freshDb();
    open.push(db);
    const src = new Outbox({ db, cases: metaApplier(db), lock: createInProcessLock(), sender: null });
    await src.enqueue(form('ok-case'));
    const file = JSON.parse(JSON.stringify(await src.exportPending())) as Awaited<
      ReturnType<Outbox['exportPending']>
    >;
    const good = file.forms[0];
    if (!good) throw new Error('no exported form');
    file.forms.unshift({ ...good, instanceId: 'deep-form', xml: deep(100_000), size: 0 });

    const dstDb = freshDb();
    open.push(dstDb);
    const dst = new Outbox({
      db: dstDb,
      cases: metaApplier(dstDb),
      lock: createInProcessLock(),
      sender: null,
    });
    const t = performance.now();
    const r = await dst.importForms(file, { applyCases: true });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r.imported).toBe(1);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]?.instanceId).toBe('deep-form');
    expect(r.failed[0]?.message).toContain('deeper than 128 levels');
    expect((await dst.list()).map((i) => i.instanceId)).toEqual([good.instanceId]);
  });
});

describe('outbox import files are checked form by form', () => {
  it('a 100k-deep draft, a form that is not an object and a non-string xml fail alone, typed', async () => {
    const db = freshDb();
    open.push(db);
    const src = new Outbox({ db, cases: metaApplier(db), lock: createInProcessLock(), sender: null });
    await src.enqueue(form('fine-case'));
    const file = JSON.parse(JSON.stringify(await src.exportPending())) as { forms: unknown[] };
    const good = file.forms[0] as Record<string, unknown>;
    let draft: unknown = {};
    for (let i = 0; i < 100_000; i++) draft = { d: draft };
    file.forms.unshift({ ...good, instanceId: 'deep-draft', draft }, null, {
      ...good,
      instanceId: 'xml-num',
      xml: 7,
    });
    const dstDb = freshDb();
    open.push(dstDb);
    const dst = new Outbox({
      db: dstDb,
      cases: metaApplier(dstDb),
      lock: createInProcessLock(),
      sender: null,
    });
    const r = await dst.importForms(file as never, { applyCases: true });
    expect(r.imported).toBe(1);
    expect(r.failed).toEqual([
      { instanceId: 'deep-draft', message: "The exported form's draft is nested deeper than 128 levels" },
      { instanceId: '', message: 'An exported form is not an object' },
      { instanceId: 'xml-num', message: "The exported form's xml is not a string" },
    ]);
  });
});
