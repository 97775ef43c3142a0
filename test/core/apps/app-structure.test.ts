import { describe, expect, it } from 'vitest';
import {
  applicationToWire,
  findForm,
  findFormByName,
  localName,
  parseApplication,
} from '../../../src/core/apps/app-structure.ts';

/** An application in HQ's Application Structure shape (application.yaml), plus fieldsim's `action`. */
const WIRE = {
  id: 'app1',
  name: 'Clinic',
  version: 7,
  is_released: true,
  versions: [],
  resource_uri: '/a/demo/api/v0.5/application/app1/',
  modules: [
    {
      name: { en: 'Patients', fr: 'Patients' },
      case_type: 'patient',
      case_properties: ['case_name', 'age', 42],
      unique_id: 'm1',
      forms: [
        {
          xmlns: 'http://openrosa.org/formdesigner/REG',
          unique_id: 'f-reg',
          name: { en: 'Register patient', fr: 'Inscrire un patient' },
          action: 'register',
          questions: [
            { label: 'Name', tag: 'name', value: '/data/name', type: 'Text', required: true },
            {
              label: 'Sex',
              tag: 'sex',
              value: '/data/sex',
              type: 'Select',
              options: [{ label: 'Female', value: 'f' }, { value: 'm' }],
            },
            // A question inside a group: its tag is not one XML name, so it is left out.
            { label: 'Inner', tag: 'grp/inner', value: '/data/grp/inner', type: 'Text' },
            { tag: 'untyped' },
            // Group, repeat and label entries of HQ's get_questions list hold no answer.
            { label: 'Household', tag: 'hh', value: '/data/hh', type: 'Group' },
            { label: 'Note', tag: 'note', value: '/data/note', type: 'Trigger' },
            {
              label: 'Child',
              tag: 'child_name',
              value: '/data/kids/child_name',
              type: 'Text',
              repeat: '/data/kids',
            },
            {
              label: 'Colour',
              tag: 'colour',
              value: '/data/colour',
              type: 'Select',
              translations: { en: 'Colour', fr: 'Couleur', es: '' },
              options: [{ label: 'Red', value: 'red', translations: { en: 'Red', fr: 'Rouge' } }],
            },
          ],
        },
        { xmlns: 'http://openrosa.org/formdesigner/VISIT', unique_id: 'f-visit', name: { es: 'Visita' } },
      ],
    },
    // HQ's answer for a module that failed to serialise.
    { error: 'Module could not be read' },
    { name: 'Plain name module', case_type: '', unique_id: 'm3', forms: [] },
  ],
};

describe('parseApplication', () => {
  it('reads HQ wire fields into the app structure', () => {
    const app = parseApplication(WIRE);
    expect([app.id, app.name, app.version]).toEqual(['app1', 'Clinic', 7]);
    expect(app.modules).toHaveLength(3);
    const m = app.modules[0]!;
    expect(m).toMatchObject({ uniqueId: 'm1', caseType: 'patient', caseProperties: ['case_name', 'age'] });
    const reg = m.forms[0]!;
    expect(reg).toMatchObject({
      xmlns: 'http://openrosa.org/formdesigner/REG',
      uniqueId: 'f-reg',
      action: 'register',
    });
    expect(reg.questions.map((q) => q.tag)).toEqual(['name', 'sex', 'untyped', 'colour']);
    expect(reg.questions[3]).toEqual({
      label: 'Colour',
      tag: 'colour',
      type: 'Select',
      required: false,
      translations: { en: 'Colour', fr: 'Couleur' },
      options: [{ label: 'Red', value: 'red', translations: { en: 'Red', fr: 'Rouge' } }],
    });
    expect(reg.questions[0]).toEqual({
      label: 'Name',
      tag: 'name',
      type: 'Text',
      required: true,
      options: [],
    });
    expect(reg.questions[1]?.options).toEqual([
      { label: 'Female', value: 'f' },
      { label: 'm', value: 'm' },
    ]);
    // Missing label falls back to the tag, missing type to Text.
    expect(reg.questions[2]).toMatchObject({ label: 'untyped', type: 'Text', required: false });
    // Forms from a real HQ carry no `action`.
    expect(m.forms[1]?.action).toBe('none');
    expect(app.modules[1]).toEqual({ uniqueId: '', name: {}, caseType: '', caseProperties: [], forms: [] });
    expect(app.modules[2]?.name).toEqual({ en: 'Plain name module' });
  });

  it('never throws on junk', () => {
    expect(parseApplication(null)).toEqual({ id: '', name: 'Application', version: 0, modules: [] });
    expect(parseApplication({ modules: 'x', version: '3' }).modules).toEqual([]);
  });

  it('applicationToWire is read back unchanged (the PWA cache format)', () => {
    const app = parseApplication(WIRE);
    expect(parseApplication(JSON.parse(JSON.stringify(applicationToWire(app))))).toEqual(app);
  });
});

describe('finding forms and names', () => {
  const apps = [parseApplication(WIRE)];

  it('findForm by application id and form unique_id', () => {
    expect(findForm(apps, 'app1', 'f-visit')?.form.xmlns).toBe('http://openrosa.org/formdesigner/VISIT');
    expect(findForm(apps, 'app1', 'nope')).toBeUndefined();
    expect(findForm(apps, 'other', 'f-visit')).toBeUndefined();
  });

  it('findFormByName by xmlns, unique_id or a name in any language, case-insensitively', () => {
    expect(findFormByName(apps, 'http://openrosa.org/formdesigner/REG')?.form.uniqueId).toBe('f-reg');
    expect(findFormByName(apps, 'f-visit')?.form.uniqueId).toBe('f-visit');
    expect(findFormByName(apps, '  register PATIENT ')?.form.uniqueId).toBe('f-reg');
    expect(findFormByName(apps, 'Inscrire un patient')?.module.uniqueId).toBe('m1');
    expect(findFormByName(apps, 'visita')?.app.id).toBe('app1');
    expect(findFormByName(apps, 'Unknown')).toBeUndefined();
  });

  it('localName prefers the exact language, then its base, then English, then any', () => {
    const n = { en: 'Visit', fr: 'Visite', 'pt-BR': 'Visita' };
    expect(localName(n, 'pt-BR')).toBe('Visita');
    expect(localName(n, 'fr-CA')).toBe('Visite');
    expect(localName(n, 'de')).toBe('Visit');
    expect(localName(n)).toBe('Visit');
    expect(localName({ es: 'Visita' }, 'de')).toBe('Visita');
    expect(localName({}, 'de')).toBe('');
  });
});
