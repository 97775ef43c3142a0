import { XFormError } from '../../errors/xform-error.ts';
import {
  attr,
  childElement,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../../protocol/xml-tree.ts';
import type { BindDef, FormDef, RepeatControlDef, SecondaryInstanceDecl, SetvalueDef } from '../form-def.ts';
import { buildDag } from '../model/build-dag.ts';
import { resolveRefPath } from '../model/generic-path.ts';
import { InstanceNode } from '../tree/instance-node.ts';
import { XFORMS_NS } from '../xforms-namespaces.ts';
import { compileExpression } from './compile-expression.ts';
import { collectSetvalue, parseBody } from './parse-body.ts';
import { parseItext } from './parse-itext.ts';
import { parseTextRef } from './parse-text.ts';
import { xmlToInstance } from './xml-to-instance.ts';

export interface ParseXFormOptions {
  /** The app file, named in every error (`modules-0/forms-1.xml`). */
  file?: string;
}

/**
 * Reads an `h:html` XForm into a FormDef, as JavaRosa's XFormParser does on the phone:
 * the primary instance (the first `<instance>` without an id), secondary instance
 * declarations, binds, model setvalues, itext and the body. Throws `XmlError` for XML that
 * is not well formed and `XFormError` (form-invalid, xpath-syntax, xpath-unsupported,
 * calculate-cycle) for a form the phone would refuse.
 */
export function parseXForm(xml: string, opts: ParseXFormOptions = {}): FormDef {
  const file = opts.file;
  const root = parseXmlTree(xml, file === undefined ? {} : { file });
  const fail = (message: string, ref?: string): XFormError =>
    new XFormError('form-invalid', `${file === undefined ? '' : `${file}: `}${message}`, {
      ...(file === undefined ? {} : { file }),
      ...(ref === undefined ? {} : { ref }),
    });
  if (root.local !== 'html') throw fail(`the root element is <${root.name}>, not <h:html>`);
  const head = childElement(root, 'head');
  const model = head === undefined ? undefined : childElement(head, 'model');
  if (head === undefined || model === undefined) throw fail('the form has no <model> in <h:head>');
  const titleEl = childElement(head, 'title');
  const title = titleEl === undefined ? '' : textContent(titleEl).trim();

  const instanceEls = childElements(model, 'instance');
  const primaryEl = instanceEls.find((i) => attr(i, 'id') === undefined) ?? instanceEls[0];
  const dataEl = primaryEl === undefined ? undefined : childElements(primaryEl)[0];
  if (primaryEl === undefined || dataEl === undefined)
    throw fail('the model has no primary <instance> with a root element');
  const secondaryInstances: SecondaryInstanceDecl[] = [];
  for (const i of instanceEls) {
    if (i === primaryEl) continue;
    const id = attr(i, 'id');
    if (id === undefined) continue;
    const content = childElements(i)[0];
    let inline: InstanceNode | undefined;
    if (content !== undefined) {
      inline = InstanceNode.document();
      inline.appendChild(xmlToInstance(content));
    }
    secondaryInstances.push({ id, src: attr(i, 'src') ?? '', inline });
  }

  const doc = InstanceNode.document();
  const data = doc.appendChild(xmlToInstance(dataEl));
  const rootPath = `/${data.name}`;
  const knownPaths = new Set<string>();
  collectPaths(data, '', knownPaths);

  const warnings: string[] = [];
  const binds: BindDef[] = [];
  const bindIds = new Map<string, string>();
  const setvalues: SetvalueDef[] = [];
  for (const el of childElements(model)) {
    if (el.local === 'bind') {
      const b = parseBind(el, rootPath, file);
      if (b === undefined) {
        warnings.push(`a <bind> on line ${el.line} has no usable nodeset`);
        continue;
      }
      if (b.id !== undefined) bindIds.set(b.id, b.path);
      // JavaRosa ignores a bind whose nodeset matches nothing (XFormParser verifyBindings
      // reports it as a warning), so do we.
      if (!knownPaths.has(b.path)) {
        warnings.push(`a <bind> names ${b.path}, which is not in the instance; ignored`);
        continue;
      }
      binds.push(b);
    } else if (el.local === 'setvalue') {
      collectSetvalue(el, rootPath, undefined, { file, setvalues });
    }
  }
  const bindsByPath = new Map<string, BindDef>();
  for (const b of binds) bindsByPath.set(b.path, b);

  const itext = parseItext(childElement(model, 'itext'), file);
  const repeats = new Map<string, RepeatControlDef>();
  const bodyEl = childElement(root, 'body');
  const body = parseBody(bodyEl, rootPath, { file, bindIds, setvalues, repeats });
  checkControls(body, knownPaths, fail);

  const repeatPreceding = new Map<string, Set<string>>();
  const repeatTemplates = takeTemplates(data, new Set(repeats.keys()), repeatPreceding);
  const triggerables = buildDag(binds, repeats.values(), file);
  const name = data.getAttribute('name') ?? title;
  return {
    file,
    title,
    rootName: data.name,
    xmlns: data.namespace,
    name,
    instance: doc,
    repeatTemplates,
    repeatPreceding,
    secondaryInstances,
    binds,
    bindsByPath,
    setvalues,
    itext,
    body,
    repeats,
    triggerables,
    warnings,
  };
}

function collectPaths(node: InstanceNode, prefix: string, out: Set<string>): void {
  const p = `${prefix}/${node.name}`;
  out.add(p);
  for (const a of node.attributes) out.add(`${p}/@${a.name}`);
  for (const c of node.children) collectPaths(c, p, out);
}

function parseBind(el: XmlElement, rootPath: string, file: string | undefined): BindDef | undefined {
  const nodeset = attr(el, 'nodeset') ?? attr(el, 'ref');
  if (nodeset === undefined) return undefined;
  const path = resolveRefPath(nodeset, rootPath);
  if (path === undefined) return undefined;
  const expr = (name: string) => {
    const src = attr(el, name);
    if (src === undefined || src.trim() === '') return undefined;
    return compileExpression(src, { file, ref: path, attribute: name });
  };
  const msg = (name: string) => {
    const src = attr(el, name);
    return src === undefined ? undefined : parseTextRef(src, file, path);
  };
  const type = attr(el, 'type');
  return {
    path,
    id: attr(el, 'id'),
    type: type === undefined ? 'string' : type.slice(type.indexOf(':') + 1),
    relevant: expr('relevant'),
    required: expr('required'),
    readonly: expr('readonly'),
    constraint: expr('constraint'),
    calculate: expr('calculate'),
    constraintMsg: msg('jr:constraintMsg'),
    requiredMsg: msg('jr:requiredMsg'),
    preload: attr(el, 'jr:preload'),
    preloadParams: attr(el, 'jr:preloadParams'),
    filter: nodeset.includes('[')
      ? compileExpression(nodeset, { file, ref: path, attribute: 'nodeset' })
      : undefined,
  };
}

function checkControls(
  controls: FormDef['body'],
  known: ReadonlySet<string>,
  fail: (m: string, ref?: string) => XFormError,
): void {
  for (const c of controls) {
    // JavaRosa refuses a control whose ref names no instance node (XFormParser
    // verifyControlBindings); a group without a ref is only a visual grouping.
    if (c.path !== undefined && !known.has(c.path))
      throw fail(
        `the <${c.kind}> on line ${c.line} refers to ${c.path}, which is not in the instance`,
        c.path,
      );
    if (c.kind === 'group' || c.kind === 'repeat') checkControls(c.children, known, fail);
  }
}

function isTemplate(node: InstanceNode): boolean {
  for (const a of node.attributes)
    if (a.name === 'template' && (a.namespace === XFORMS_NS.jr || a.prefix === 'jr')) return true;
  return false;
}

/**
 * Takes repeat templates out of the instance (commcare-core FormInstance / XFormParser
 * `checkRepeatsForTemplate`): a node marked `jr:template` is the template and is removed;
 * without one, the first instance of a repeat serves as the template and stays.
 */
function takeTemplates(
  data: InstanceNode,
  repeatPaths: ReadonlySet<string>,
  preceding: Map<string, Set<string>>,
): Map<string, InstanceNode> {
  const templates = new Map<string, InstanceNode>();
  const visit = (node: InstanceNode, path: string): void => {
    const keep: InstanceNode[] = [];
    const children = node.children;
    for (let i = 0; i < children.length; i++) {
      const c = children[i] as InstanceNode;
      const cp = `${path}/${c.name}`;
      const template = isTemplate(c);
      // Only repeats need their preceding siblings; copying them for every node made this
      // quadratic in the width of the instance.
      if ((template || repeatPaths.has(cp)) && !preceding.has(cp))
        preceding.set(cp, namesBefore(children, i));
      if (template) {
        if (!templates.has(cp)) templates.set(cp, stripTemplate(c));
        registerNested(c, cp, templates, preceding, repeatPaths);
        continue;
      }
      if (repeatPaths.has(cp) && !templates.has(cp)) templates.set(cp, stripTemplate(c));
      keep.push(c);
      visit(c, cp);
    }
    node.children = keep;
  };
  visit(data, `/${data.name}`);
  return templates;
}

/** Templates of repeats nested in a template (they are only found there). */
function registerNested(
  node: InstanceNode,
  path: string,
  templates: Map<string, InstanceNode>,
  preceding: Map<string, Set<string>>,
  repeatPaths: ReadonlySet<string>,
): void {
  const children = node.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i] as InstanceNode;
    const cp = `${path}/${c.name}`;
    const template = isTemplate(c);
    if ((template || repeatPaths.has(cp)) && !preceding.has(cp)) preceding.set(cp, namesBefore(children, i));
    if (template && !templates.has(cp)) templates.set(cp, stripTemplate(c));
    registerNested(c, cp, templates, preceding, repeatPaths);
  }
}

function namesBefore(children: readonly InstanceNode[], end: number): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < end; i++) names.add((children[i] as InstanceNode).name);
  return names;
}

/** Whether a node is a repeat template (`jr:template` attribute). */
export function isTemplateNode(node: InstanceNode): boolean {
  return isTemplate(node);
}

/** A clean template: its own `jr:template` attribute dropped, nested templates kept inside. */
function stripTemplate(node: InstanceNode): InstanceNode {
  const t = node.clone();
  t.attributes = t.attributes.filter(
    (a) => !(a.name === 'template' && (a.namespace === XFORMS_NS.jr || a.prefix === 'jr')),
  );
  return t;
}
