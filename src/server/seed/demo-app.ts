import type { AppDoc, AppQuestion } from '../apps/app-doc.ts';

/**
 * The demo application in the shape of HQ's Application Structure API
 * (`ApplicationResource`, hq:corehq/apps/api/resources/v0_4.py; PROTOCOL.md 9.5).
 * Its real CommCare files (profile, suite, app strings, XForms) are written by
 * `demo-app-files.ts` from the same definitions.
 */
export const DEMO_APP_ID = 'f1e1d5a3c0de4f1e8a5e1d5a3c0de001';
export const DEMO_XMLNS = {
  registerHousehold: 'http://fieldsim.dev/demo/register-household',
  followUp: 'http://fieldsim.dev/demo/follow-up',
  closeHousehold: 'http://fieldsim.dev/demo/close-household',
  registerMember: 'http://fieldsim.dev/demo/register-member',
} as const;

/**
 * The demo app has two languages, English first (the app's default) and French, so the
 * PWA's language choice can be seen and tested; place names stay untranslated.
 */
const FR: Record<string, string> = {
  'Household name': 'Nom du ménage',
  Village: 'Village',
  'Number of people': 'Nombre de personnes',
  'Visit number': 'Numéro de visite',
  Notes: 'Notes',
  Reason: 'Motif',
  'Moved away': 'Déménagé',
  Duplicate: 'Doublon',
  Other: 'Autre',
  Name: 'Nom',
  Age: 'Âge',
  Sex: 'Sexe',
  Female: 'Femme',
  Male: 'Homme',
};
const tr = (en: string): Record<string, string> => (FR[en] ? { en, fr: FR[en] } : { en });

const q = (tag: string, label: string, type: string, extra: Partial<AppQuestion> = {}): AppQuestion => ({
  label,
  tag,
  value: `/data/${tag}`,
  type,
  translations: tr(label),
  ...extra,
  ...(extra.options
    ? { options: extra.options.map((o) => (FR[o.label] ? { ...o, translations: tr(o.label) } : o)) }
    : {}),
});

export function demoApplication(): AppDoc {
  const villages = ['Riverside', 'Hilltop', 'Lakeview', 'Marketplace', 'Old Mill'].map((v) => ({
    label: v,
    value: v.toLowerCase().replace(/\s+/g, '_'),
  }));
  return {
    id: DEMO_APP_ID,
    name: 'fieldsim demo',
    version: 3,
    is_released: true,
    built_on: '2026-01-01T00:00:00.000000',
    build_comment: 'demo build',
    built_from_app_id: null,
    versions: [
      {
        id: 'f1e1d5a3c0de4f1e8a5e1d5a3c0de003',
        built_on: '2026-01-01T00:00:00.000000',
        build_comment: 'demo build',
        is_released: true,
        version: 3,
      },
    ],
    modules: [
      {
        name: { en: 'Households', fr: 'Ménages' },
        case_type: 'household',
        case_properties: ['case_name', 'village', 'household_size', 'visit_count', 'last_visit_notes'],
        unique_id: 'households-module',
        forms: [
          {
            xmlns: DEMO_XMLNS.registerHousehold,
            name: { en: 'Register household', fr: 'Enregistrer un ménage' },
            unique_id: 'register-household',
            action: 'register',
            questions: [
              q('household_name', 'Household name', 'Text', { required: true }),
              q('village', 'Village', 'Select', { options: villages }),
              q('household_size', 'Number of people', 'Int'),
            ],
          },
          {
            xmlns: DEMO_XMLNS.followUp,
            name: { en: 'Follow up', fr: 'Suivi' },
            unique_id: 'follow-up',
            action: 'update',
            questions: [
              q('visit_count', 'Visit number', 'Int'),
              q('last_visit_notes', 'Notes', 'Text'),
              q('household_size', 'Number of people', 'Int'),
            ],
          },
          {
            xmlns: DEMO_XMLNS.closeHousehold,
            name: { en: 'Close household', fr: 'Fermer le ménage' },
            unique_id: 'close-household',
            action: 'close',
            questions: [
              q('close_reason', 'Reason', 'Select', {
                options: [
                  { label: 'Moved away', value: 'moved' },
                  { label: 'Duplicate', value: 'duplicate' },
                  { label: 'Other', value: 'other' },
                ],
              }),
            ],
          },
        ],
      },
      {
        name: { en: 'Members', fr: 'Membres' },
        case_type: 'member',
        case_properties: ['case_name', 'age', 'sex', 'parent/case_name'],
        unique_id: 'members-module',
        forms: [
          {
            xmlns: DEMO_XMLNS.registerMember,
            name: { en: 'Register member', fr: 'Enregistrer un membre' },
            unique_id: 'register-member',
            action: 'register-child',
            questions: [
              q('member_name', 'Name', 'Text', { required: true }),
              q('age', 'Age', 'Int'),
              q('sex', 'Sex', 'Select', {
                options: [
                  { label: 'Female', value: 'female' },
                  { label: 'Male', value: 'male' },
                ],
              }),
            ],
          },
        ],
      },
    ],
  };
}
