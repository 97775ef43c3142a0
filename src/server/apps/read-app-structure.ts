import { XFormError } from '../../core/errors/xform-error.ts';
import {
  attr,
  childElement,
  childElements,
  textContent,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';
import type { AppFiles } from '../db/apps.ts';
import type { AppForm, AppModule } from './app-doc.ts';
import { type AppStrings, parseAppStrings, suiteText } from './app-strings.ts';
import { appText, appXml } from './read-profile.ts';
import { readXFormSummary, type XFormSummary } from './read-xform-summary.ts';
import { resourcePath } from './resource-path.ts';

interface Entry {
  xmlns: string;
  command: XmlElement | undefined;
  datums: XmlElement[];
}

/**
 * The Application Structure API's modules of an app read from its files, small and
 * without running anything: each suite `<menu>` is a module (name from its `<text>` in
 * every app language), each `<command>` in it whose `<entry>` names a form is a form
 * (xmlns from the entry's `<form>`, name from the command's `<text>`, questions from the
 * XForm the suite's `<xform>` resources hold). The module's case type is the one its
 * forms' `case_id` datum selects (`@case_type='...'` in the nodeset, as HQ's suite
 * generator writes it: hq:corehq/apps/app_manager/suite_xml/sections/entries.py), else
 * the type the forms' own case block creates, else any datum's.
 */
export function readAppModules(files: AppFiles, suitePaths: string[], source: string): AppModule[] {
  const xforms: { path: string; id: string }[] = [];
  const localePaths = new Map<string, string>();
  const entries = new Map<string, Entry>();
  const menus: { id: string; text: XmlElement | undefined; commands: string[] }[] = [];
  for (const suitePath of suitePaths) {
    const suite = appXml(files, suitePath, source);
    for (const x of childElements(suite, 'xform')) {
      const p = resourceFile(x, files);
      const id = attr(childElement(x, 'resource') ?? x, 'id');
      if (p !== undefined) xforms.push({ path: p, id: id ?? p });
    }
    for (const l of childElements(suite, 'locale')) {
      const p = resourceFile(l, files);
      if (p !== undefined) localePaths.set(attr(l, 'language') ?? 'default', p);
    }
    for (const e of childElements(suite, 'entry')) {
      const command = childElement(e, 'command');
      const id = command && attr(command, 'id');
      const form = childElement(e, 'form');
      if (!id || !form) continue;
      const session = childElement(e, 'session');
      entries.set(id, {
        xmlns: textContent(form).trim(),
        command,
        datums: session ? childElements(session, 'datum') : [],
      });
    }
    for (const m of childElements(suite, 'menu')) {
      const id = attr(m, 'id') ?? '';
      const commands = childElements(m, 'command').map((c) => attr(c, 'id') ?? '');
      const known = menus.find((x) => x.id === id);
      if (known) known.commands.push(...commands.filter((c) => !known.commands.includes(c)));
      else menus.push({ id, text: displayText(m), commands });
    }
  }

  const strings = new Map<string, AppStrings>();
  for (const [lang, p] of localePaths) {
    const text = appText(files, p);
    if (text === undefined)
      throw new XFormError('app-invalid', `${source}: no ${p} (named by the suite)`, { file: p });
    strings.set(lang, parseAppStrings(text));
  }
  const fallback = strings.get('default') ?? new Map<string, string>();
  const languages = [...strings.keys()].filter((l) => l !== 'default');
  if (languages.length === 0) languages.push('en');
  const names = (text: XmlElement | undefined): Record<string, string> =>
    Object.fromEntries(languages.map((l) => [l, suiteText(text, strings.get(l) ?? fallback, fallback)]));

  const forms = new Map<string, { summary: XFormSummary; resourceId: string }>();
  for (const { path: p, id } of xforms) {
    const root = appXml(files, p, source);
    let summary: XFormSummary;
    try {
      summary = readXFormSummary(root, p);
    } catch (e) {
      if (e instanceof XFormError)
        throw new XFormError('app-invalid', `${source}: ${e.message}`, { file: p, cause: e });
      throw e;
    }
    forms.set(summary.xmlns, { summary, resourceId: id });
  }

  const modules: AppModule[] = [];
  for (const menu of menus) {
    const moduleForms: AppForm[] = [];
    const moduleEntries: Entry[] = [];
    for (const commandId of menu.commands) {
      const entry = entries.get(commandId);
      if (!entry) continue;
      moduleEntries.push(entry);
      const form = forms.get(entry.xmlns);
      moduleForms.push({
        xmlns: entry.xmlns,
        name: names(entry.command && displayText(entry.command)),
        unique_id: form?.resourceId ?? commandId,
        questions: form?.summary.questions ?? [],
      });
    }
    if (moduleForms.length === 0) continue;
    const summaries = moduleEntries
      .map((e) => forms.get(e.xmlns)?.summary)
      .filter((s): s is XFormSummary => s !== undefined);
    const caseType = moduleCaseType(moduleEntries, summaries);
    const properties: string[] = [];
    for (const s of summaries)
      for (const b of s.caseBlocks)
        if (b.path.split('/').length === 3 || b.createType === caseType)
          for (const p of b.properties) if (!properties.includes(p)) properties.push(p);
    modules.push({
      name: names(menu.text),
      case_type: caseType,
      case_properties: caseType === '' ? [] : properties,
      unique_id: menu.id,
      forms: moduleForms,
    });
  }
  return modules;
}

const CASE_TYPE_RE = /@case_type\s*=\s*['"]([^'"]+)['"]/;

function moduleCaseType(entries: Entry[], forms: XFormSummary[]): string {
  for (const e of entries)
    for (const d of e.datums) {
      if (attr(d, 'id') !== 'case_id') continue;
      const m = CASE_TYPE_RE.exec(attr(d, 'nodeset') ?? '');
      if (m?.[1]) return m[1];
    }
  for (const f of forms) {
    // The form's own block sits at /data/case; subcases deeper down.
    const own = f.caseBlocks.find((b) => b.path.split('/').length === 3 && b.createType !== '');
    if (own) return own.createType;
  }
  for (const e of entries)
    for (const d of e.datums) {
      const m = CASE_TYPE_RE.exec(attr(d, 'nodeset') ?? '');
      if (m?.[1]) return m[1];
    }
  return '';
}

/**
 * A menu's or command's title: its `<text>`, or in the newer `<display>` form the
 * `<display>`'s `<text>` without a `form` (the others are badges, images, audio).
 */
function displayText(el: XmlElement): XmlElement | undefined {
  const direct = childElement(el, 'text');
  if (direct) return direct;
  const display = childElement(el, 'display');
  return display && childElements(display, 'text').find((t) => attr(t, 'form') === undefined);
}

/** The app file a suite resource element (`<xform>`, `<locale>`) installs. */
function resourceFile(el: XmlElement, files: AppFiles): string | undefined {
  const resource = childElement(el, 'resource');
  if (!resource) return undefined;
  const paths = childElements(resource, 'location')
    .map((l) => resourcePath(textContent(l)))
    .filter((p): p is string => p !== undefined);
  return paths.find((p) => files.has(p)) ?? paths[0];
}
