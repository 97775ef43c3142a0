import { describe, expect, it } from 'vitest';
import {
  answerText,
  buildAppFormDraft,
  buildIncompleteDraft,
  nameQuestion,
  readIncompleteDraft,
  validateAnswer,
  validateForm,
} from '../../../src/core/apps/app-form-draft.ts';
import type { AppForm, AppModule, AppQuestion } from '../../../src/core/apps/app-structure.ts';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import type { CaseRecord } from '../../../src/core/protocol/casexml/case-types.ts';
import { composeForm } from '../../../src/core/protocol/submission/compose-form.ts';
import type { FormDraft } from '../../../src/core/protocol/submission/form-types.ts';

const q = (tag: string, type: string, extra: Partial<AppQuestion> = {}): AppQuestion => ({
  label: tag.toUpperCase(),
  tag,
  type,
  required: false,
  options: [],
  ...extra,
});

const form = (action: AppForm['action'], questions: AppQuestion[]): AppForm => ({
  xmlns: `http://test/${action}`,
  uniqueId: action,
  name: { en: `Form ${action}`, fr: `Formulaire ${action}` },
  action,
  questions,
});

const module = (forms: AppForm[]): AppModule => ({
  uniqueId: 'm',
  name: { en: 'Households' },
  caseType: 'household',
  caseProperties: [],
  forms,
});

const household = { caseId: 'hh-1', caseType: 'household', caseName: 'Dlamini' } as CaseRecord;

const META = {
  deviceId: 'd',
  timeStart: '2026-01-01T00:00:00.000Z',
  timeEnd: '2026-01-01T00:01:00.000Z',
  username: 'worker1',
  userId: 'u1',
  instanceId: 'i1',
};
const xmlOf = (d: FormDraft) => composeForm({ ...d, meta: META }).xml;

describe('answer validation', () => {
  it('checks required, whole numbers, numbers, dates and choices', () => {
    expect(validateAnswer(q('a', 'Text', { required: true }), '  ')).toBe('A is required.');
    expect(validateAnswer(q('a', 'Text'), '')).toBeNull();
    expect(validateAnswer(q('n', 'Int'), '4.5')).toBe('N must be a whole number.');
    expect(validateAnswer(q('n', 'Int'), '-4')).toBeNull();
    expect(validateAnswer(q('x', 'Decimal'), 'abc')).toBe('X must be a number.');
    expect(validateAnswer(q('x', 'Decimal'), '2.5')).toBeNull();
    expect(validateAnswer(q('d', 'Date'), '01/02/2026')).toBe('D must be a date (YYYY-MM-DD).');
    const sel = q('s', 'Select', { options: [{ label: 'North', value: 'north' }] });
    expect(validateAnswer(sel, 'south')).toBe('Choose one of the options for S.');
    expect(validateAnswer(sel, 'north')).toBeNull();
    expect(answerText(['a', 'b'])).toBe('a b');
    const f = form('none', [q('a', 'Text', { required: true }), q('n', 'Int')]);
    expect(validateForm(f, { n: 'x' })).toEqual({ a: 'A is required.', n: 'N must be a whole number.' });
    expect(validateForm(f, { a: 'ok', n: '3' })).toEqual({});
  });

  it('the name question is the first required text question, else the first text one', () => {
    expect(
      nameQuestion(form('register', [q('n', 'Int'), q('a', 'Text'), q('b', 'Text', { required: true })]))
        ?.tag,
    ).toBe('b');
    expect(nameQuestion(form('register', [q('n', 'Int'), q('a', 'Text')]))?.tag).toBe('a');
    expect(nameQuestion(form('register', [q('n', 'Int')]))).toBeUndefined();
  });
});

describe('buildAppFormDraft', () => {
  it('register: answers in question order and a create block named by the name question', () => {
    const f = form('register', [
      q('hh_name', 'Text', { required: true }),
      q('village', 'Select'),
      q('size', 'Int'),
    ]);
    const d = buildAppFormDraft({
      module: module([f]),
      form: f,
      answers: { hh_name: ' Mokoena ', village: 'north', size: '' },
      newCaseId: 'new-1',
    });
    expect(d.xmlns).toBe('http://test/register');
    expect(d.name).toBe('Form register Mokoena');
    const xml = xmlOf(d);
    expect(xml.indexOf('<hh_name> Mokoena </hh_name>')).toBeLessThan(xml.indexOf('<village>north</village>'));
    expect(xml).toContain('<size/>');
    expect(xml).toContain('case_id="new-1"');
    expect(xml).toContain('<case_type>household</case_type>');
    expect(xml).toContain('<case_name>Mokoena</case_name>');
    // The name answer names the case; other non-empty answers become properties.
    expect(xml).toMatch(/<update>\s*<village>north<\/village>\s*<\/update>/);
  });

  it('register-child needs a parent and indexes it', () => {
    const f = form('register-child', [q('member', 'Text', { required: true })]);
    const m = { ...module([f]), caseType: 'member' };
    let err: unknown;
    try {
      buildAppFormDraft({ module: m, form: f, answers: { member: 'Thabo' }, newCaseId: 'c' });
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code).toBe('invalid-argument');
    expect((err as Error).message).toBe('Choose the parent case first.');
    const xml = xmlOf(
      buildAppFormDraft({
        module: m,
        form: f,
        answers: { member: 'Thabo' },
        newCaseId: 'c',
        parent: household,
      }),
    );
    expect(xml).toMatch(/<parent case_type="household"[^>]*>hh-1<\/parent>/);
  });

  it('update writes every non-empty answer as a property of the target; no answers, no block', () => {
    const f = form('update', [q('visits', 'Int'), q('notes', 'Text')]);
    const d = buildAppFormDraft({
      module: module([f]),
      form: f,
      answers: { visits: '2' },
      newCaseId: 'x',
      target: household,
    });
    expect(d.name).toBe('Form update (Dlamini)');
    const xml = xmlOf(d);
    expect(xml).toContain('case_id="hh-1"');
    expect(xml).toMatch(/<update>\s*<visits>2<\/visits>\s*<\/update>/);
    const none = buildAppFormDraft({
      module: module([f]),
      form: f,
      answers: {},
      newCaseId: 'x',
      target: household,
    });
    expect(xmlOf(none)).not.toContain('<case ');
    expect(() => buildAppFormDraft({ module: module([f]), form: f, answers: {}, newCaseId: 'x' })).toThrow(
      'Choose the case first.',
    );
  });

  it('close writes a close block; none writes answers only; titles follow the language', () => {
    const f = form('close', [q('reason', 'Text')]);
    const xml = xmlOf(
      buildAppFormDraft({
        module: module([f]),
        form: f,
        answers: { reason: 'moved' },
        newCaseId: 'x',
        target: household,
      }),
    );
    expect(xml).toContain('<close/>');
    const plain = form('none', [q('a', 'Text')]);
    const d = buildAppFormDraft({
      module: module([plain]),
      form: plain,
      answers: { a: 'z' },
      newCaseId: 'x',
      lang: 'fr',
    });
    expect(d.name).toBe('Formulaire none');
    expect(xmlOf(d)).not.toContain('<case ');
  });
});

describe('incomplete drafts', () => {
  it('round-trip answers (multi-select as a list) and the chosen cases', () => {
    const f = form('register-child', [q('name', 'Text'), q('tags', 'MSelect'), q('empty', 'Text')]);
    const d = buildIncompleteDraft({
      form: f,
      answers: { name: 'Ama', tags: ['a', 'b'] },
      target: null,
      parent: household,
    });
    expect(d.name).toBe('Form register-child');
    const back = readIncompleteDraft(f, d);
    expect(back).toEqual({ answers: { name: 'Ama', tags: ['a', 'b'] }, parentId: 'hh-1' });
  });
});
