import { XFormError } from '../errors/xform-error.ts';
import { attr, childElement, childElements, parseXmlTree, type XmlElement } from '../protocol/xml-tree.ts';
import type { ResourceLocation } from './resource-location.ts';
import type {
  DetailAction,
  DetailField,
  DetailSort,
  InstanceDeclaration,
  ParsedSuite,
  SessionDatum,
  SortType,
  SuiteAssertion,
  SuiteDetail,
  SuiteDisplay,
  SuiteEntry,
  SuiteMenu,
  SuiteResource,
  UnsupportedFeature,
} from './suite-model.ts';
import { parseTextContent, type SuiteText } from './suite-text.ts';

/**
 * Reads a `suite.xml` into plain objects, following commcare-core `SuiteParser` and the
 * element parsers it calls (`MenuParser`, `EntryParser`, `DetailParser`,
 * `SessionDatumParser`). Elements fieldsim does not use (fixtures, endpoints, media,
 * geo overlays, callouts) are skipped; structural mistakes that leave an element without
 * meaning throw `app-invalid` naming the file and line.
 */
export function parseSuite(xml: string, file: string): ParsedSuite {
  let root: XmlElement;
  try {
    root = parseXmlTree(xml, { file });
  } catch (e) {
    throw new XFormError('app-invalid', `${file} is not well-formed XML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  if (root.local !== 'suite')
    throw new XFormError('app-invalid', `${file}: the root element is <${root.name}>, not <suite>`, { file });

  const suite: ParsedSuite = {
    file,
    version: attr(root, 'version'),
    xforms: [],
    locales: [],
    details: [],
    entries: [],
    menus: [],
    userRestore: undefined,
  };
  const p = new ElementReader(file);
  for (const el of childElements(root)) {
    switch (el.local) {
      case 'xform':
        suite.xforms.push(p.resourceIn(el));
        break;
      case 'locale':
        suite.locales.push({ language: p.required(el, 'language'), resource: p.resourceIn(el) });
        break;
      case 'detail':
        suite.details.push(p.detail(el));
        break;
      case 'entry':
      case 'view':
      case 'remote-request':
        suite.entries.push(p.entry(el));
        break;
      case 'menu':
        suite.menus.push(p.menu(el));
        break;
      case 'user-restore':
        suite.userRestore = { resource: p.resourceIn(el) };
        break;
      default:
        // fixture, endpoint, media, etc.: not part of what fieldsim runs.
        break;
    }
  }
  return suite;
}

/** Parses `<resource>` wrappers as they appear in profiles too. */
export function parseResource(el: XmlElement, file: string): SuiteResource {
  const locations: ResourceLocation[] = childElements(el, 'location').map((l) => ({
    authority: attr(l, 'authority') === 'local' ? 'local' : 'remote',
    href: textOf(l),
  }));
  if (locations.length === 0)
    throw new XFormError('app-invalid', `${file} line ${el.line}: <resource> has no <location>`, { file });
  return {
    id: attr(el, 'id') ?? '',
    version: attr(el, 'version'),
    descriptor: attr(el, 'descriptor'),
    locations,
  };
}

function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return s.trim();
}

const SORT_TYPES: readonly string[] = ['string', 'int', 'double', 'date'];

class ElementReader {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  fail(el: XmlElement, message: string): never {
    throw new XFormError('app-invalid', `${this.file} line ${el.line}: ${message}`, { file: this.file });
  }

  required(el: XmlElement, name: string): string {
    const v = attr(el, name);
    if (v === undefined || v === '') this.fail(el, `<${el.name}> has no ${name} attribute`);
    return v;
  }

  resourceIn(el: XmlElement): SuiteResource {
    const r = childElement(el, 'resource');
    if (!r) this.fail(el, `<${el.name}> has no <resource>`);
    return parseResource(r, this.file);
  }

  text(el: XmlElement): SuiteText {
    return parseTextContent(el, this.file);
  }

  /**
   * A command's or menu's display: either a bare `<text>` (plus `image`/`audio` attributes
   * on old suites) or a `<display>` block with texts by `form` and `<media>`
   * (commcare-core `DisplayUnit`, `MenuParser`/`CommandParser`).
   */
  display(owner: XmlElement): SuiteDisplay {
    const displayEl = childElement(owner, 'display');
    const holder = displayEl ?? owner;
    let text: SuiteText | undefined;
    let badge: SuiteText | undefined;
    let image = attr(owner, 'image');
    let audio = attr(owner, 'audio');
    for (const t of childElements(holder, 'text')) {
      const form = attr(t, 'form');
      if (form === 'badge') badge = this.text(t);
      else if (form === 'image') image ??= textOf(t);
      else if (form === 'audio') audio ??= textOf(t);
      else text ??= this.text(t);
    }
    const media = childElement(holder, 'media');
    if (media) {
      image = attr(media, 'image') ?? image;
      audio = attr(media, 'audio') ?? audio;
    }
    return { text: text ?? { kind: 'flat', value: '' }, badge, image, audio };
  }

  instances(el: XmlElement): InstanceDeclaration[] {
    return childElements(el, 'instance').map((i) => ({
      id: this.required(i, 'id'),
      src: this.required(i, 'src'),
    }));
  }

  assertions(el: XmlElement): SuiteAssertion[] {
    const block = childElement(el, 'assertions');
    if (!block) return [];
    return childElements(block, 'assert').map((a) => {
      const t = childElement(a, 'text');
      if (!t) this.fail(a, '<assert> has no <text> message');
      return { test: this.required(a, 'test'), text: this.text(t) };
    });
  }

  menu(el: XmlElement): SuiteMenu {
    return {
      id: this.required(el, 'id'),
      root: attr(el, 'root') ?? 'root',
      relevant: attr(el, 'relevant'),
      display: this.display(el),
      style: attr(el, 'style'),
      commands: childElements(el, 'command').map((c) => ({
        id: this.required(c, 'id'),
        relevant: attr(c, 'relevant'),
      })),
      instances: this.instances(el),
      assertions: this.assertions(el),
      file: this.file,
    };
  }

  entry(el: XmlElement): SuiteEntry {
    const command = childElement(el, 'command');
    if (!command) this.fail(el, `<${el.name}> has no <command>`);
    const kind = el.local === 'view' ? 'view' : el.local === 'remote-request' ? 'remote-request' : 'entry';
    const unsupported = new Set<UnsupportedFeature>();
    if (kind === 'remote-request') unsupported.add('remote-request');
    if (childElement(el, 'post')) unsupported.add('post');
    const datums: SessionDatum[] = [];
    const session = childElement(el, 'session');
    for (const d of session ? childElements(session) : []) {
      if (d.local === 'query') {
        unsupported.add('query');
        continue;
      }
      if (d.local !== 'datum' && d.local !== 'instance-datum') continue;
      const id = this.required(d, 'id');
      const fn = attr(d, 'function');
      if (fn !== undefined) {
        datums.push({ kind: 'computed', id, expression: fn });
        continue;
      }
      if (d.local === 'instance-datum') unsupported.add('instance-datum');
      datums.push({
        kind: 'entity',
        id,
        nodeset: this.required(d, 'nodeset'),
        value: this.required(d, 'value'),
        detailSelect: attr(d, 'detail-select'),
        detailConfirm: attr(d, 'detail-confirm'),
        detailPersistent: attr(d, 'detail-persistent'),
        detailInline: attr(d, 'detail-inline'),
        autoselect: attr(d, 'autoselect') === 'true',
        multiSelect: d.local === 'instance-datum',
      });
    }
    const formEl = childElement(el, 'form');
    const formXmlns = formEl ? textOf(formEl) : undefined;
    if (kind === 'entry' && formXmlns === undefined && datums.length === 0 && unsupported.size === 0) {
      // An entry with neither a form nor datums cannot do anything on the phone either.
      this.fail(el, `<entry> ${attr(command, 'id') ?? ''} has no <form> and no <session>`);
    }
    return {
      kind,
      commandId: this.required(command, 'id'),
      formXmlns: formXmlns === '' ? undefined : formXmlns,
      display: this.display(command),
      instances: this.instances(el),
      datums,
      assertions: this.assertions(el),
      unsupported: [...unsupported],
      hasStack: childElement(el, 'stack') !== undefined,
      file: this.file,
    };
  }

  /** A `<detail>`; tabs nested in a long detail carry no id of their own. */
  detail(el: XmlElement, nested = false): SuiteDetail {
    const titleEl = childElement(el, 'title');
    const titleText = titleEl ? childElement(titleEl, 'text') : undefined;
    const variables = new Map<string, string>();
    const varsEl = childElement(el, 'variables');
    for (const v of varsEl ? childElements(varsEl) : []) variables.set(v.local, this.required(v, 'function'));
    const focus = childElement(el, 'focus');
    return {
      id: nested ? (attr(el, 'id') ?? '') : this.required(el, 'id'),
      title: titleText ? this.text(titleText) : undefined,
      nodeset: attr(el, 'nodeset'),
      fields: childElements(el, 'field').map((f) => this.field(f)),
      variables,
      details: childElements(el, 'detail').map((d) => this.detail(d, true)),
      actions: childElements(el, 'action').map((a) => this.action(a)),
      focus: focus ? attr(focus, 'function') : undefined,
      file: this.file,
    };
  }

  action(el: XmlElement): DetailAction {
    return {
      display: this.display(el),
      relevant: attr(el, 'relevant'),
      autoLaunch: attr(el, 'auto_launch') === 'true',
    };
  }

  field(el: XmlElement): DetailField {
    const header = childElement(el, 'header');
    const headerText = header ? childElement(header, 'text') : undefined;
    const template = childElement(el, 'template');
    const templateText = template ? childElement(template, 'text') : undefined;
    const sortEl = childElement(el, 'sort');
    return {
      header: headerText ? this.text(headerText) : undefined,
      template: templateText ? this.text(templateText) : undefined,
      templateForm: template ? attr(template, 'form') : undefined,
      sort: sortEl ? this.sort(sortEl) : undefined,
      hidden: header !== undefined && attr(header, 'width') === '0',
    };
  }

  /**
   * `<sort type order direction>`: order is the priority among sorting fields; a missing
   * order means the field does not sort (commcare-core `DetailParser`: order defaults to
   * -1). An unknown type sorts as text.
   */
  sort(el: XmlElement): DetailSort {
    const type = attr(el, 'type') ?? 'string';
    const orderRaw = attr(el, 'order');
    const order = orderRaw === undefined ? -1 : Number.parseInt(orderRaw, 10);
    if (orderRaw !== undefined && Number.isNaN(order))
      this.fail(el, `<sort> order "${orderRaw}" is not a number`);
    const t = childElement(el, 'text');
    return {
      type: (SORT_TYPES.includes(type) ? type : 'string') as SortType,
      direction: attr(el, 'direction') === 'descending' ? 'descending' : 'ascending',
      order,
      text: t ? this.text(t) : undefined,
    };
  }
}
