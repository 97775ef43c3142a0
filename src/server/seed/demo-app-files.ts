import { escapeXmlAttr } from '../../core/protocol/xml-escape.ts';
import type { AppDoc, AppForm, AppModule } from '../apps/app-doc.ts';
import type { AppFiles } from '../db/apps.ts';
import { DEMO_XMLNS, demoApplication } from './demo-app.ts';
import {
  closeHouseholdXForm,
  followUpXForm,
  registerHouseholdXForm,
  registerMemberXForm,
} from './demo-app-forms.ts';

/**
 * The demo app's CommCare files, as HQ builds them into a `.ccz` (profile, suite, media
 * suite, app strings per language, one XForm per form), written from the same `AppDoc`
 * the Application Structure API serves: module and form names, form xmlns and the listed
 * questions come from it. Layout and naming follow HQ's suite generator
 * (hq:corehq/apps/app_manager/suite_xml/: details `m<N>_case_short`/`m<N>_case_long`,
 * menus `m<N>`, commands `m<N>-f<M>`, datums `case_id` and `case_id_new_<type>_0`,
 * locale ids `modules.m<N>`, `forms.m<N>f<M>`, `m<N>.case_short.case_<prop>_<i>.header`).
 */

/** The host the demo profile is written for; the download endpoint rewrites it per request. */
const HQ = 'https://www.commcarehq.org';
const DOMAIN = 'demo';

type Lang = 'en' | 'fr';
const LANGS: Lang[] = ['en', 'fr'];

interface Column {
  property: string;
  en: string;
  fr: string;
  /** The XPath shown; the property by default. */
  xpath?: string;
  sort?: 'string' | 'int';
}

const DATE_OPENED =
  "if(date_opened = '', '', format-date(date(if(date_opened = '', 0, date_opened)), '%e/%n/%y'))";
const PARENT_NAME = "instance('casedb')/casedb/case[@case_id = current()/index/parent]/case_name";

const DETAILS: Record<string, Column[]> = {
  m0_case_short: [
    { property: 'name', en: 'Name', fr: 'Nom', xpath: 'case_name', sort: 'string' },
    { property: 'village', en: 'Village', fr: 'Village' },
    { property: 'household_size', en: 'People', fr: 'Personnes', sort: 'int' },
    { property: 'date_opened', en: 'Registered', fr: 'Enregistré', xpath: DATE_OPENED },
  ],
  m0_case_long: [
    { property: 'name', en: 'Name', fr: 'Nom', xpath: 'case_name' },
    { property: 'village', en: 'Village', fr: 'Village' },
    { property: 'household_size', en: 'People', fr: 'Personnes' },
    { property: 'visit_count', en: 'Visits', fr: 'Visites' },
    { property: 'last_visit_notes', en: 'Last notes', fr: 'Dernières notes' },
    { property: 'date_opened', en: 'Registered', fr: 'Enregistré', xpath: DATE_OPENED },
  ],
  m1_case_short: [
    { property: 'name', en: 'Name', fr: 'Nom', xpath: 'case_name', sort: 'string' },
    { property: 'age', en: 'Age', fr: 'Âge', sort: 'int' },
    { property: 'sex', en: 'Sex', fr: 'Sexe' },
  ],
  m1_case_long: [
    { property: 'name', en: 'Name', fr: 'Nom', xpath: 'case_name' },
    { property: 'age', en: 'Age', fr: 'Âge' },
    { property: 'sex', en: 'Sex', fr: 'Sexe' },
    { property: 'parent_name', en: 'Household', fr: 'Ménage', xpath: PARENT_NAME },
    { property: 'date_opened', en: 'Registered', fr: 'Enregistré', xpath: DATE_OPENED },
  ],
};

const headerId = (detail: string, c: Column, i: number) =>
  `${detail.replace('_case_', '.case_')}.case_${c.property}_${i + 1}.header`;

function detailXml(id: string, columns: Column[]): string {
  const fields = columns
    .map((c, i) => {
      const xpath = c.xpath ?? c.property;
      const fn = escapeXmlAttr(xpath);
      const sort = c.sort
        ? `<sort type="${c.sort}" order="1" direction="ascending"><text><xpath function="${fn}"/></text></sort>`
        : '';
      return (
        `    <field>\n      <header><text><locale id="${headerId(id, c, i)}"/></text></header>\n` +
        `      <template><text><xpath function="${fn}"/></text></template>${sort}\n    </field>\n`
      );
    })
    .join('');
  return `  <detail id="${id}">\n    <title><text><locale id="cchq.case"/></text></title>\n${fields}  </detail>\n`;
}

const INSTANCES: Record<string, string> = {
  casedb: '<instance id="casedb" src="jr://instance/casedb"/>',
  commcaresession: '<instance id="commcaresession" src="jr://instance/session"/>',
  groups: '<instance id="groups" src="jr://fixture/user-groups"/>',
  'item-list:village': '<instance id="item-list:village" src="jr://fixture/item-list:village"/>',
};

const HOUSEHOLDS = "instance('casedb')/casedb/case[@case_type='household'][@status='open']";

/** Each form's session (datums) and the instances its entry declares, by xmlns. */
const ENTRIES: Record<string, { instances: string[]; datums: string[] }> = {
  [DEMO_XMLNS.registerHousehold]: {
    instances: ['commcaresession', 'groups'],
    datums: ['<datum id="case_id_new_household_0" function="uuid()"/>'],
  },
  [DEMO_XMLNS.followUp]: {
    instances: ['casedb', 'commcaresession', 'item-list:village'],
    datums: [
      `<datum id="case_id" nodeset="${HOUSEHOLDS}" value="./@case_id" detail-select="m0_case_short" detail-confirm="m0_case_long"/>`,
    ],
  },
  [DEMO_XMLNS.closeHousehold]: {
    instances: ['casedb', 'commcaresession'],
    datums: [
      `<datum id="case_id" nodeset="${HOUSEHOLDS}" value="./@case_id" detail-select="m0_case_short" detail-confirm="m0_case_long"/>`,
    ],
  },
  [DEMO_XMLNS.registerMember]: {
    instances: ['casedb', 'commcaresession', 'groups'],
    datums: [
      `<datum id="parent_id" nodeset="${HOUSEHOLDS}" value="./@case_id" detail-select="m0_case_short" detail-confirm="m0_case_long"/>`,
      '<datum id="case_id_new_member_0" function="uuid()"/>',
    ],
  },
};

const XFORM_WRITERS: Record<string, (form: AppForm, version: number) => string> = {
  [DEMO_XMLNS.registerHousehold]: registerHouseholdXForm,
  [DEMO_XMLNS.followUp]: followUpXForm,
  [DEMO_XMLNS.closeHousehold]: closeHouseholdXForm,
  [DEMO_XMLNS.registerMember]: registerMemberXForm,
};

const formPath = (m: number, f: number) => `modules-${m}/forms-${f}.xml`;

function resource(id: string, version: number, descriptor: string, path: string): string {
  return (
    `<resource id="${id}" version="${version}" descriptor="${descriptor}">\n` +
    `      <location authority="local">./${path}</location>\n` +
    `      <location authority="remote">./${path}</location>\n    </resource>`
  );
}

function suiteXml(doc: AppDoc): string {
  const v = doc.version;
  let s = `<?xml version='1.0' encoding='UTF-8'?>\n<suite version="${v}" descriptor="Suite File">\n`;
  doc.modules.forEach((m, mi) => {
    m.forms.forEach((f, fi) => {
      s += `  <xform>\n    ${resource(f.unique_id, v, `Form: (Module ${m.name.en}) - ${f.name.en}`, formPath(mi, fi))}\n  </xform>\n`;
    });
  });
  const locales: [string, string][] = [
    ['default', 'Default Language'],
    ['en', 'English'],
    ['fr', 'French'],
  ];
  for (const [lang, label] of locales)
    s += `  <locale language="${lang}">\n    ${resource(`app_${lang}_strings`, v, `Translations: ${label}`, `${lang}/app_strings.txt`)}\n  </locale>\n`;
  for (const [id, columns] of Object.entries(DETAILS)) s += detailXml(id, columns);
  doc.modules.forEach((m, mi) => {
    m.forms.forEach((f, fi) => {
      const e = ENTRIES[f.xmlns];
      if (!e) throw new Error(`demo app: no suite entry for ${f.xmlns}`);
      s +=
        `  <entry>\n    <form>${f.xmlns}</form>\n` +
        `    <command id="m${mi}-f${fi}"><text><locale id="forms.m${mi}f${fi}"/></text></command>\n` +
        e.instances.map((i) => `    ${INSTANCES[i]}\n`).join('') +
        `    <session>\n${e.datums.map((d) => `      ${d}\n`).join('')}    </session>\n  </entry>\n`;
    });
  });
  doc.modules.forEach((m, mi) => {
    s += `  <menu id="m${mi}">\n    <text><locale id="modules.m${mi}"/></text>\n`;
    m.forms.forEach((_f, fi) => {
      s += `    <command id="m${mi}-f${fi}"/>\n`;
    });
    s += '  </menu>\n';
  });
  return `${s}</suite>\n`;
}

/** `app_strings.txt` for one language: module and form names, detail headers. */
function appStrings(doc: AppDoc, lang: Lang): string {
  const lines = [
    `app.display.name=${doc.name}`,
    `cchq.case=${lang === 'fr' ? 'Dossier' : 'Case'}`,
    `homescreen.title=${doc.name}`,
  ];
  doc.modules.forEach((m: AppModule, mi) => {
    lines.push(`modules.m${mi}=${m.name[lang] ?? m.name.en}`);
    m.forms.forEach((f, fi) => {
      lines.push(`forms.m${mi}f${fi}=${f.name[lang] ?? f.name.en}`);
    });
  });
  for (const [id, columns] of Object.entries(DETAILS))
    columns.forEach((c, i) => {
      lines.push(`${headerId(id, c, i)}=${c[lang]}`);
    });
  return `${lines.join('\n')}\n`;
}

function profileXml(doc: AppDoc): string {
  const a = `${HQ}/a/${DOMAIN}`;
  const prop = (key: string, value: string, force = true) =>
    `  <property key="${key}" value="${value}" force="${force}"/>\n`;
  const suite = (id: string, path: string) =>
    `  <suite><resource id="${id}" version="${doc.version}" descriptor="${id === 'suite' ? 'Suite File' : 'Media Suite File'}">\n` +
    `    <location authority="local">./${path}</location>\n` +
    `    <location authority="remote">${a}/apps/download/${doc.id}/${path}</location>\n  </resource></suite>\n`;
  return (
    "<?xml version='1.0' encoding='UTF-8'?>\n" +
    `<profile version="${doc.version}" update="${a}/apps/download/${doc.id}/profile.ccpr?latest=true" ` +
    `requiredMajor="2" requiredMinor="53" uniqueid="${doc.id}" name="${doc.name}" descriptor="Profile File">\n` +
    prop('ota-restore-url', `${a}/phone/restore/${doc.id}/`) +
    prop('ota-restore-url-testing', `${a}/phone/restore/${doc.id}/`) +
    prop('PostURL', `${a}/receiver/${doc.id}/`) +
    prop('PostTestURL', `${a}/receiver/${doc.id}/`) +
    prop('key_server', `${a}/phone/keys/`) +
    prop('cur_locale', 'en', false) +
    prop('cc_user_domain', `${DOMAIN}.commcarehq.org`) +
    prop('jr_openrosa_api', '3.0') +
    prop('heartbeat-url', `${a}/phone/heartbeat/${doc.id}/`) +
    '  <features><users active="true"/></features>\n' +
    suite('suite', 'suite.xml') +
    suite('media-suite', 'media_suite.xml') +
    '</profile>\n'
  );
}

const encoder = new TextEncoder();

/** Every file of the demo app's build, by path. */
export function demoAppFiles(doc: AppDoc = demoApplication()): AppFiles {
  const files: AppFiles = new Map();
  const put = (path: string, text: string) => files.set(path, encoder.encode(text));
  put('profile.ccpr', profileXml(doc));
  put('suite.xml', suiteXml(doc));
  put(
    'media_suite.xml',
    `<?xml version='1.0' encoding='UTF-8'?>\n<suite version="${doc.version}" descriptor="Media Suite File"/>\n`,
  );
  // HQ's default strings are the app's first language's, so a phone in any locale has text.
  put('default/app_strings.txt', appStrings(doc, 'en'));
  for (const lang of LANGS) put(`${lang}/app_strings.txt`, appStrings(doc, lang));
  doc.modules.forEach((m, mi) => {
    m.forms.forEach((f, fi) => {
      const write = XFORM_WRITERS[f.xmlns];
      if (!write) throw new Error(`demo app: no XForm for ${f.xmlns}`);
      put(formPath(mi, fi), write(f, doc.version));
    });
  });
  return files;
}
