import { XFormError } from '../errors/xform-error.ts';
import {
  attr,
  childElement,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../protocol/xml-tree.ts';
import { compileXPath } from '../xforms/xpath/compile-xpath.ts';
import type { CompiledXPath } from '../xforms/xpath/xpath-types.ts';
import type { AppFiles } from './app-files.ts';
import { parseAppStrings } from './app-strings.ts';
import type { AppForm, CommCareApp, DemoUserRestore } from './commcare-app.ts';
import { parseProfile } from './parse-profile.ts';
import { parseSuite } from './parse-suite.ts';
import { orderLocations, resolveLocation } from './resource-location.ts';
import { suiteExpressions } from './suite-expressions.ts';
import type { ParsedSuite, SuiteDetail, SuiteEntry, SuiteMenu, SuiteResource } from './suite-model.ts';

export interface LoadAppOptions {
  /** Where the profile is, relative to the app root. */
  profilePath?: string;
  /** The XPath compiler (the project's own by default). */
  compile?: (source: string) => CompiledXPath;
}

const decoder = new TextDecoder('utf-8');
const XFORMS_NS = 'http://www.w3.org/2002/xforms';

/**
 * Installs an app the way the phone does (commcare-core `ResourceTable` with
 * `ProfileParser`, `SuiteParser`, locale and XForm installers): the profile first, then
 * each suite it names, then every locale file and XForm each suite declares, then the
 * demo user restore if any. A file that is missing or unreadable stops the install with
 * `app-invalid` naming it; so does every XPath expression in the suite that does not
 * compile (the phone checks them when it parses the suite, e.g. a bad menu badge).
 */
export async function loadApp(files: AppFiles, opts: LoadAppOptions = {}): Promise<CommCareApp> {
  const compile = opts.compile ?? compileXPath;
  const profilePath = opts.profilePath ?? 'profile.ccpr';
  const profileBytes = await files.read(profilePath);
  if (profileBytes === undefined)
    throw new XFormError('app-invalid', `The app has no profile: ${profilePath} is missing`, {
      file: profilePath,
    });
  const profile = parseProfile(decoder.decode(profileBytes), profilePath);

  const suites: ParsedSuite[] = [];
  for (const res of profile.suites) {
    const media = isMediaSuite(res);
    const got = await readResource(files, res, profilePath, media ? 'optional' : 'required');
    if (!got) continue;
    const suite = parseSuite(decoder.decode(got.bytes), got.path);
    // The media suite lists images and audio only; fieldsim shows no media, so it is
    // parsed (a broken one is still a broken app) and otherwise left alone.
    if (!media) suites.push(suite);
  }

  const strings = new Map<string, Map<string, string>>();
  const languages: string[] = [];
  const forms = new Map<string, AppForm>();
  let demoUserRestore: DemoUserRestore | undefined;
  for (const suite of suites) {
    for (const loc of suite.locales) {
      const got = await readResource(files, loc.resource, suite.file, 'required');
      if (!got) continue;
      const table = strings.get(loc.language) ?? new Map<string, string>();
      for (const [k, v] of parseAppStrings(decoder.decode(got.bytes))) table.set(k, v);
      strings.set(loc.language, table);
      if (loc.language !== 'default' && !languages.includes(loc.language)) languages.push(loc.language);
    }
    for (const res of suite.xforms) {
      const got = await readResource(files, res, suite.file, 'required');
      if (!got) continue;
      const xml = decoder.decode(got.bytes);
      const xmlns = formXmlns(xml, got.path);
      // Two files with one xmlns: the phone keeps the first it installed.
      if (!forms.has(xmlns)) forms.set(xmlns, { path: got.path, xml, xmlns });
    }
    if (suite.userRestore) {
      const got = await readResource(files, suite.userRestore.resource, suite.file, 'required');
      if (got) demoUserRestore = checkDemoRestore(decoder.decode(got.bytes), got.path);
    }
  }
  languages.push('default');

  const menus: SuiteMenu[] = suites.flatMap((s) => s.menus);
  const entries = new Map<string, SuiteEntry>();
  const details = new Map<string, SuiteDetail>();
  for (const s of suites) {
    for (const e of s.entries) entries.set(e.commandId, e);
    for (const d of s.details) details.set(d.id, d);
  }
  // Datums may name details the suite lacks (commcare-core's own case_claim_example does);
  // the phone finds out only when it opens the list, and so does `caseList`.
  checkMenuCommands(menus, entries);

  const compiled = new Map<string, CompiledXPath>();
  const xpath = (source: string): CompiledXPath => {
    let c = compiled.get(source);
    if (!c) {
      c = compile(source);
      compiled.set(source, c);
    }
    return c;
  };
  for (const s of suites) {
    for (const expr of suiteExpressions(s)) {
      try {
        xpath(expr);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new XFormError('app-invalid', `${s.file}: Invalid XPath Expression : ${expr} (${why})`, {
          file: s.file,
          expression: expr,
          cause: e,
        });
      }
    }
  }

  const curLocale = profile.properties.get('cur_locale');
  const lookupText = (id: string, lang?: string): string | undefined =>
    (lang === undefined ? undefined : strings.get(lang)?.get(id)) ?? strings.get('default')?.get(id);

  return {
    name: profile.name,
    uniqueId: profile.uniqueId,
    version: profile.version,
    profileProperties: profile.properties,
    languages,
    defaultLanguage:
      curLocale !== undefined && languages.includes(curLocale) ? curLocale : (languages[0] ?? 'default'),
    suites,
    menus,
    entries,
    details,
    forms,
    strings,
    demoUserRestore,
    lookupText,
    text: (id, lang) => lookupText(id, lang) ?? id,
    xpath,
  };
}

function isMediaSuite(res: SuiteResource): boolean {
  return res.id === 'media-suite' || res.locations.some((l) => /(^|\/)media_suite\.xml$/.test(l.href));
}

/**
 * Tries a resource's locations in the phone's order (local, then remote), each resolved
 * against the file that declared it; the first that answers wins.
 */
async function readResource(
  files: AppFiles,
  res: SuiteResource,
  declaredIn: string,
  need: 'required' | 'optional',
): Promise<{ path: string; bytes: Uint8Array } | undefined> {
  const tried: string[] = [];
  for (const loc of orderLocations(res.locations)) {
    const path = resolveLocation(loc.href, declaredIn);
    if (tried.includes(path)) continue;
    tried.push(path);
    const bytes = await files.read(path);
    if (bytes !== undefined) return { path, bytes };
  }
  if (need === 'optional') return undefined;
  const first = tried[0] ?? res.id;
  throw new XFormError(
    'app-invalid',
    `${declaredIn} declares ${first}${res.descriptor ? ` (${res.descriptor})` : ''}, but the app has no such file` +
      (tried.length > 1 ? ` (tried ${tried.join(', ')})` : ''),
    { file: first },
  );
}

/**
 * The xmlns entries link to: the namespace of the first element inside the model's first
 * `<instance>` (the primary instance root, `<data xmlns="http://openrosa.org/formdesigner/...">`).
 */
export function formXmlns(xml: string, file: string): string {
  let root: XmlElement;
  try {
    root = parseXmlTree(xml, { file });
  } catch (e) {
    throw new XFormError('app-invalid', `${file} is not well-formed XML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const model = findElement(root, 'model');
  const instance = model ? childElement(model, 'instance') : undefined;
  const data = instance ? childElements(instance)[0] : undefined;
  if (!data)
    throw new XFormError('app-invalid', `${file} has no primary instance (model/instance/*)`, { file });
  // Without its own xmlns the root inherits the XForms namespace from <h:html>: no form id.
  if (data.uri === '' || data.uri === XFORMS_NS)
    throw new XFormError('app-invalid', `${file}: the primary instance root <${data.name}> has no xmlns`, {
      file,
    });
  return data.uri;
}

function findElement(el: XmlElement, local: string): XmlElement | undefined {
  if (el.local === local) return el;
  for (const c of childElements(el)) {
    const hit = findElement(c, local);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * A demo restore must name its user and mark it as a demo user, or the phone refuses
 * the app (commcare-core `OfflineUserRestore`, checked by AppStructureTests).
 */
function checkDemoRestore(xml: string, file: string): DemoUserRestore {
  let root: XmlElement;
  try {
    root = parseXmlTree(xml, { file });
  } catch (e) {
    throw new XFormError('app-invalid', `${file} is not well-formed XML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const reg = childElement(root, 'Registration');
  const username = reg ? textContent(childElement(reg, 'username') ?? reg).trim() : '';
  if (!reg || username === '')
    throw new XFormError(
      'app-invalid',
      `${file}: Demo user restore file must specify a username in the Registration block`,
      {
        file,
      },
    );
  const userData = childElement(reg, 'user_data');
  const userType = userData
    ? childElements(userData, 'data').find((d) => attr(d, 'key') === 'user_type')
    : undefined;
  if (!userType || textContent(userType).trim() !== 'demo')
    throw new XFormError(
      'app-invalid',
      `${file}: Demo user restore file must be for a user with user_type set to demo`,
      {
        file,
      },
    );
  return { username, xml };
}

/** Menus must name existing commands (the phone's `MenuLoader` would fail on each one). */
function checkMenuCommands(menus: readonly SuiteMenu[], entries: ReadonlyMap<string, SuiteEntry>): void {
  for (const m of menus) {
    for (const c of m.commands) {
      if (!entries.has(c.id))
        throw new XFormError(
          'app-invalid',
          `${m.file}: menu ${m.id} lists command ${c.id}, which no entry defines`,
          {
            file: m.file,
            ref: c.id,
          },
        );
    }
  }
}
