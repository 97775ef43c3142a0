import { escapeXmlAttr, escapeXmlText } from '../../core/protocol/xml-escape.ts';
import type { AppForm, AppQuestion } from '../apps/app-doc.ts';

/**
 * The demo app's four XForms, written as HQ's app builder writes them (the form designer's
 * XForm plus the case and meta blocks `XForm.add_case_and_meta` adds,
 * hq:corehq/apps/app_manager/xform.py; compare the forms in basic.ccz and HQ's
 * corehq/apps/app_manager/tests/data/form_preparation_v2/*.xml). The questions the
 * Application Structure API lists are written from the same `AppForm` the API serves, so
 * the two cannot drift; each form adds what the API does not describe (hidden values,
 * labels with `<output>`, repeats, constraints, case preloads).
 */

const CASE_NS = 'http://commcarehq.org/case/transaction/v2';
export const SESSION_INSTANCE = `<instance id="commcaresession" src="jr://instance/session"/>`;
export const CASEDB_INSTANCE = `<instance id="casedb" src="jr://instance/casedb"/>`;
const GROUPS_INSTANCE = `<instance id="groups" src="jr://fixture/user-groups"/>`;
const VILLAGE_INSTANCE = `<instance id="item-list:village" src="jr://fixture/item-list:village"/>`;

const SESSION_DATA = "instance('commcaresession')/session/data";
const SESSION_CONTEXT = "instance('commcaresession')/session/context";

/** A label in both app languages (French falls back to English, as place names do). */
export interface Label {
  id: string;
  en: string;
  fr: string;
}

interface Part {
  /** Elements of the primary instance (before the case block). */
  instance: string;
  binds: string[];
  labels: Label[];
  body: string;
}

const bind = (nodeset: string, attrs: Record<string, string>): string =>
  `<bind nodeset="${nodeset}"${Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(v)}"`)
    .join('')}/>`;

const BIND_TYPES: Record<string, string> = { Text: 'xsd:string', Int: 'xsd:int', Select: 'xsd:string' };

/** One API question as a body control, its bind and its itext; `extra` adds bind attributes. */
function question(q: AppQuestion, extra: Record<string, string> = {}, extraLabels: Label[] = []): Part {
  const id = `${q.tag}-label`;
  const labels: Label[] = [
    { id, en: q.translations?.en ?? q.label, fr: q.translations?.fr ?? q.translations?.en ?? q.label },
    ...extraLabels,
  ];
  const attrs: Record<string, string> = { type: BIND_TYPES[q.type] ?? 'xsd:string' };
  if (q.required) attrs.required = 'true()';
  let body: string;
  if (q.type === 'Select') {
    let items = '';
    for (const o of q.options ?? []) {
      const oid = `${q.tag}-${o.value}-label`;
      labels.push({ id: oid, en: o.translations?.en ?? o.label, fr: o.translations?.fr ?? o.label });
      items += `<item><label ref="jr:itext('${oid}')"/><value>${escapeXmlText(o.value)}</value></item>`;
    }
    body = `<select1 ref="${q.value}"><label ref="jr:itext('${id}')"/>${items}</select1>`;
  } else body = `<input ref="${q.value}"><label ref="jr:itext('${id}')"/></input>`;
  return { instance: `<${q.tag}/>`, binds: [bind(q.value, { ...attrs, ...extra })], labels, body };
}

/** A label-only question (`trigger`) showing values through `<output>`. */
function note(tag: string, en: string, fr: string): Part {
  const id = `${tag}-label`;
  return {
    instance: `<${tag}/>`,
    binds: [],
    labels: [{ id, en, fr }],
    body: `<trigger ref="/data/${tag}" appearance="minimal"><label ref="jr:itext('${id}')"/></trigger>`,
  };
}

function hidden(tag: string, calculate: string): Part {
  return { instance: `<${tag}/>`, binds: [bind(`/data/${tag}`, { calculate })], labels: [], body: '' };
}

/** The itext value for a label: `<output value="/data/x"/>` placeholders written as `{/data/x}`. */
function itextValue(text: string): string {
  return escapeXmlText(text).replace(/\{(\/data\/[\w/]+)\}/g, '<output value="$1"/>');
}

function itext(labels: Label[]): string {
  const tr = (lang: 'en' | 'fr', isDefault: boolean) =>
    `<translation lang="${lang}"${isDefault ? ' default=""' : ''}>${labels
      .map((l) => `<text id="${l.id}"><value>${itextValue(l[lang])}</value></text>`)
      .join('')}</translation>`;
  return `<itext>${tr('en', true)}${tr('fr', false)}</itext>`;
}

const META =
  '<orx:meta xmlns:cc="http://commcarehq.org/xforms"><orx:deviceID/><orx:timeStart/><orx:timeEnd/>' +
  '<orx:username/><orx:userID/><orx:instanceID/><cc:appVersion/></orx:meta>';

/** The meta block's setvalues and binds, as `add_case_and_meta` writes them. */
const META_MODEL = [
  `<setvalue event="xforms-ready" ref="/data/meta/deviceID" value="${SESSION_CONTEXT}/deviceid"/>`,
  `<setvalue event="xforms-ready" ref="/data/meta/timeStart" value="now()"/>`,
  bind('/data/meta/timeStart', { type: 'xsd:dateTime' }),
  `<setvalue event="xforms-revalidate" ref="/data/meta/timeEnd" value="now()"/>`,
  bind('/data/meta/timeEnd', { type: 'xsd:dateTime' }),
  `<setvalue event="xforms-ready" ref="/data/meta/username" value="${SESSION_CONTEXT}/username"/>`,
  `<setvalue event="xforms-ready" ref="/data/meta/userID" value="${SESSION_CONTEXT}/userid"/>`,
  `<setvalue event="xforms-ready" ref="/data/meta/instanceID" value="uuid()"/>`,
  `<setvalue event="xforms-ready" ref="/data/meta/appVersion" value="${SESSION_CONTEXT}/appversion"/>`,
];

/** `date_modified` and `user_id` of the case block, shared by every case form. */
const CASE_HEADER_BINDS = [
  `<bind nodeset="/data/case/@date_modified" type="xsd:dateTime" jr:preload="timestamp" jr:preloadParams="end"/>`,
  bind('/data/case/@user_id', { calculate: `${SESSION_CONTEXT}/userid` }),
];

/** Owner: the worker's case-sharing group when there is one, else the worker (HQ's default owner). */
const OWNER_ID =
  "if(count(instance('groups')/groups/group) > 0, instance('groups')/groups/group[1]/@id, /data/case/@user_id)";

function xform(opts: {
  form: AppForm;
  version: number;
  parts: Part[];
  caseBlock: string;
  caseBinds: string[];
  instances: string[];
  setvalues?: string[];
}): string {
  const { form, parts } = opts;
  const instance =
    `<data xmlns:jrm="http://dev.commcarehq.org/jr/xforms" xmlns="${escapeXmlAttr(form.xmlns)}" uiVersion="1" ` +
    `version="${opts.version}" name="${escapeXmlAttr(form.name.en ?? '')}">` +
    parts.map((p) => p.instance).join('') +
    opts.caseBlock +
    META +
    '</data>';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns:orx="http://openrosa.org/jr/xforms" ' +
    'xmlns="http://www.w3.org/2002/xforms" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ' +
    'xmlns:jr="http://openrosa.org/javarosa" xmlns:vellum="http://commcarehq.org/xforms/vellum">\n' +
    `<h:head><h:title>${escapeXmlText(form.name.en ?? '')}</h:title><model>\n` +
    `<instance>${instance}</instance>\n` +
    opts.instances.join('\n') +
    '\n' +
    parts.flatMap((p) => p.binds).join('\n') +
    '\n' +
    itext(parts.flatMap((p) => p.labels)) +
    '\n' +
    [...(opts.setvalues ?? []), ...opts.caseBinds, ...META_MODEL].join('\n') +
    '\n</model></h:head>\n<h:body>\n' +
    parts
      .map((p) => p.body)
      .filter((b) => b !== '')
      .join('\n') +
    '\n</h:body>\n</h:html>\n'
  );
}

const find = (form: AppForm, tag: string): AppQuestion => {
  const q = form.questions.find((x) => x.tag === tag);
  if (!q) throw new Error(`demo app: form ${form.unique_id} has no question ${tag}`);
  return q;
};

const sizeConstraint: Label = {
  id: 'household_size-constraintMsg',
  en: 'A household has between 1 and 30 people.',
  fr: 'Un ménage compte entre 1 et 30 personnes.',
};

/**
 * Register household: a new `household` case (id from the session's
 * `case_id_new_household_0` datum, `uuid()`), a constraint with a message in both
 * languages, a repeat of the members' names counted by the household size, and a label
 * that shows a calculated value.
 */
export function registerHouseholdXForm(form: AppForm, version: number): string {
  const memberLabel: Label = { id: 'member_name-label', en: 'Name of member', fr: 'Nom du membre' };
  const repeat: Part = {
    instance: '<members jr:template=""><member_name/></members>',
    binds: [bind('/data/members/member_name', { type: 'xsd:string' })],
    labels: [{ id: 'members-label', en: 'Members', fr: 'Membres' }, memberLabel],
    body:
      `<group><label ref="jr:itext('members-label')"/>` +
      `<repeat nodeset="/data/members" jr:count="/data/household_size" jr:noAddRemove="true()">` +
      `<input ref="/data/members/member_name"><label ref="jr:itext('member_name-label')"/></input></repeat></group>`,
  };
  const parts = [
    question(find(form, 'household_name')),
    question(find(form, 'village')),
    question(
      find(form, 'household_size'),
      { constraint: '. >= 1 and . <= 30', 'jr:constraintMsg': "jr:itext('household_size-constraintMsg')" },
      [sizeConstraint],
    ),
    repeat,
    hidden('members_named', "count(/data/members[member_name != ''])"),
    note(
      'summary',
      '{/data/members_named} of {/data/household_size} members of {/data/household_name} named.',
      '{/data/members_named} membres nommés sur {/data/household_size} pour {/data/household_name}.',
    ),
  ];
  return xform({
    form,
    version,
    parts,
    instances: [SESSION_INSTANCE, GROUPS_INSTANCE],
    caseBlock:
      `<case xmlns="${CASE_NS}" case_id="" date_modified="" user_id="">` +
      '<create><case_name/><owner_id/><case_type>household</case_type></create>' +
      '<update><village/><household_size/><visit_count/></update></case>',
    caseBinds: [
      ...CASE_HEADER_BINDS,
      bind('/data/case/@case_id', { calculate: `${SESSION_DATA}/case_id_new_household_0` }),
      bind('/data/case/create/case_name', { calculate: '/data/household_name' }),
      bind('/data/case/create/owner_id', { calculate: OWNER_ID }),
      bind('/data/case/update/village', { calculate: '/data/village' }),
      bind('/data/case/update/household_size', { calculate: '/data/household_size' }),
      bind('/data/case/update/visit_count', { calculate: '0' }),
    ],
  });
}

const THIS_CASE = `instance('casedb')/casedb/case[@case_id = ${SESSION_DATA}/case_id]`;

/**
 * Follow up: loads the household's name, village and visit count from the case database
 * when the form opens (`setvalue` on `xforms-ready`), looks the village's name up in the
 * `village` lookup table, and updates the case only when something was answered (a
 * `relevant` on the update block).
 */
export function followUpXForm(form: AppForm, version: number): string {
  const parts = [
    { instance: '<case_name/><village/><previous_visits/>', binds: [], labels: [], body: '' },
    hidden(
      'village_name',
      "coalesce(instance('item-list:village')/village_list/village[id = /data/village or name = /data/village]/name, /data/village)",
    ),
    note(
      'visit_info',
      'Visit to {/data/case_name} in {/data/village_name}.',
      'Visite chez {/data/case_name} à {/data/village_name}.',
    ),
    question(find(form, 'visit_count'), { constraint: '. > 0' }),
    question(find(form, 'last_visit_notes')),
    question(
      find(form, 'household_size'),
      { constraint: '. >= 1 and . <= 30', 'jr:constraintMsg': "jr:itext('household_size-constraintMsg')" },
      [sizeConstraint],
    ),
  ];
  return xform({
    form,
    version,
    parts,
    instances: [CASEDB_INSTANCE, SESSION_INSTANCE, VILLAGE_INSTANCE],
    setvalues: [
      `<setvalue event="xforms-ready" ref="/data/case_name" value="${THIS_CASE}/case_name"/>`,
      `<setvalue event="xforms-ready" ref="/data/village" value="${THIS_CASE}/village"/>`,
      `<setvalue event="xforms-ready" ref="/data/previous_visits" value="${THIS_CASE}/visit_count"/>`,
      `<setvalue event="xforms-ready" ref="/data/visit_count" value="coalesce(/data/previous_visits, 0) + 1"/>`,
    ],
    caseBlock:
      `<case xmlns="${CASE_NS}" case_id="" date_modified="" user_id="">` +
      '<update><visit_count/><last_visit_notes/><household_size/></update></case>',
    caseBinds: [
      ...CASE_HEADER_BINDS,
      bind('/data/case/@case_id', { calculate: `${SESSION_DATA}/case_id` }),
      bind('/data/case/update', {
        relevant: "/data/visit_count != '' or /data/last_visit_notes != '' or /data/household_size != ''",
      }),
      bind('/data/case/update/visit_count', { calculate: '/data/visit_count' }),
      bind('/data/case/update/last_visit_notes', { calculate: '/data/last_visit_notes' }),
      bind('/data/case/update/household_size', {
        calculate: '/data/household_size',
        relevant: "/data/household_size != ''",
      }),
    ],
  });
}

/** Close household: the reason stays in the form; the case block closes the case. */
export function closeHouseholdXForm(form: AppForm, version: number): string {
  return xform({
    form,
    version,
    parts: [question(find(form, 'close_reason'))],
    instances: [SESSION_INSTANCE],
    caseBlock: `<case xmlns="${CASE_NS}" case_id="" date_modified="" user_id=""><close/></case>`,
    caseBinds: [...CASE_HEADER_BINDS, bind('/data/case/@case_id', { calculate: `${SESSION_DATA}/case_id` })],
  });
}

/**
 * Register member: the session first selects a household (`parent_id`), then the form
 * creates a `member` case (id from `case_id_new_member_0`) indexed to it as `parent`.
 */
export function registerMemberXForm(form: AppForm, version: number): string {
  const parent = `instance('casedb')/casedb/case[@case_id = ${SESSION_DATA}/parent_id]`;
  const parts = [
    { instance: '<household_name/>', binds: [], labels: [], body: '' },
    note(
      'household_info',
      'New member of {/data/household_name}.',
      'Nouveau membre de {/data/household_name}.',
    ),
    question(find(form, 'member_name')),
    question(
      find(form, 'age'),
      { constraint: '. >= 0 and . <= 120', 'jr:constraintMsg': "jr:itext('age-constraintMsg')" },
      [{ id: 'age-constraintMsg', en: 'Age is between 0 and 120.', fr: "L'âge est compris entre 0 et 120." }],
    ),
    question(find(form, 'sex')),
  ];
  return xform({
    form,
    version,
    parts,
    instances: [CASEDB_INSTANCE, SESSION_INSTANCE, GROUPS_INSTANCE],
    setvalues: [`<setvalue event="xforms-ready" ref="/data/household_name" value="${parent}/case_name"/>`],
    caseBlock:
      `<case xmlns="${CASE_NS}" case_id="" date_modified="" user_id="">` +
      '<create><case_name/><owner_id/><case_type>member</case_type></create>' +
      '<update><age/><sex/></update>' +
      '<index><parent case_type="household"/></index></case>',
    caseBinds: [
      ...CASE_HEADER_BINDS,
      bind('/data/case/@case_id', { calculate: `${SESSION_DATA}/case_id_new_member_0` }),
      bind('/data/case/create/case_name', { calculate: '/data/member_name' }),
      bind('/data/case/create/owner_id', { calculate: OWNER_ID }),
      bind('/data/case/update/age', { calculate: '/data/age' }),
      bind('/data/case/update/sex', { calculate: '/data/sex' }),
      bind('/data/case/index/parent', { calculate: `${SESSION_DATA}/parent_id` }),
    ],
  });
}
