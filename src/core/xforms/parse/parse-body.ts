import { XFormError } from '../../errors/xform-error.ts';
import { attr, childElement, childElements, textContent, type XmlElement } from '../../protocol/xml-tree.ts';
import type {
  ControlDef,
  ControlKind,
  ItemsetDef,
  RepeatControlDef,
  SelectItemDef,
  SetvalueDef,
  SetvalueEvent,
} from '../form-def.ts';
import { resolveRefPath } from '../model/generic-path.ts';
import { compileExpression } from './compile-expression.ts';
import { parseItemsetLabel, parseTextDef } from './parse-text.ts';

const QUESTION_KINDS: ReadonlySet<string> = new Set<ControlKind>([
  'input',
  'select1',
  'select',
  'trigger',
  'upload',
  'secret',
  'range',
]);

export interface BodyParseContext {
  file: string | undefined;
  /** Bind id -> generic path, for controls written `bind="id"`. */
  bindIds: ReadonlyMap<string, string>;
  /** Setvalues found inside controls and repeats are collected here. */
  setvalues: SetvalueDef[];
  repeats: Map<string, RepeatControlDef>;
}

/**
 * The form body (XForms 1.0 section 8-9, as JavaRosa's XFormParser reads it): controls,
 * groups and repeats in document order, each resolved to a generic instance path. Unknown
 * elements are skipped, as the phone skips them.
 */
export function parseBody(
  body: XmlElement | undefined,
  rootPath: string,
  ctx: BodyParseContext,
): ControlDef[] {
  if (body === undefined) return [];
  return parseChildren(body, rootPath, ctx);
}

function parseChildren(parent: XmlElement, contextPath: string, ctx: BodyParseContext): ControlDef[] {
  const out: ControlDef[] = [];
  for (const el of childElements(parent)) {
    const c = parseControl(el, contextPath, ctx);
    if (c !== undefined) out.push(c);
  }
  return out;
}

function refOf(
  el: XmlElement,
  contextPath: string,
  ctx: BodyParseContext,
  attrName: string,
): string | undefined {
  const bindId = attr(el, 'bind');
  if (bindId !== undefined) {
    const p = ctx.bindIds.get(bindId);
    if (p === undefined)
      throw new XFormError(
        'form-invalid',
        `${where(ctx)}<${el.local}> names bind "${bindId}", which is not declared`,
        {
          ...fileOf(ctx),
          ref: bindId,
        },
      );
    return p;
  }
  const ref = attr(el, attrName);
  if (ref === undefined) return undefined;
  const p = resolveRefPath(ref, contextPath);
  if (p === undefined)
    throw new XFormError('form-invalid', `${where(ctx)}<${el.local}> ${attrName}="${ref}" is not a path`, {
      ...fileOf(ctx),
      ref,
    });
  return p;
}

function parseControl(el: XmlElement, contextPath: string, ctx: BodyParseContext): ControlDef | undefined {
  const local = el.local;
  if (local === 'group') {
    const path = refOf(el, contextPath, ctx, 'ref');
    const inner = path ?? contextPath;
    const appearance = attr(el, 'appearance');
    return {
      kind: 'group',
      path,
      label: parseTextDef(childElement(el, 'label'), ctx.file, path ?? 'group'),
      hint: parseTextDef(childElement(el, 'hint'), ctx.file, path ?? 'group'),
      appearance,
      line: el.line,
      fieldList: appearance?.split(/\s+/).includes('field-list') === true,
      children: parseChildren(el, inner, ctx),
    };
  }
  if (local === 'repeat') return parseRepeat(el, contextPath, ctx);
  if (local === 'setvalue') {
    collectSetvalue(el, contextPath, undefined, ctx);
    return undefined;
  }
  if (!QUESTION_KINDS.has(local)) return undefined;
  const path = refOf(el, contextPath, ctx, 'ref');
  if (path === undefined)
    throw new XFormError(
      'form-invalid',
      `${where(ctx)}<${local}> on line ${el.line} has no ref`,
      fileOf(ctx),
    );
  for (const sv of childElements(el, 'setvalue')) collectSetvalue(sv, contextPath, path, ctx);
  const items: SelectItemDef[] = [];
  for (const item of childElements(el, 'item')) {
    const v = childElement(item, 'value');
    items.push({
      value: v === undefined ? '' : textContent(v).trim(),
      label: parseTextDef(childElement(item, 'label'), ctx.file, path),
    });
  }
  const itemsetEl = childElement(el, 'itemset');
  return {
    kind: local as ControlKind,
    path,
    label: parseTextDef(childElement(el, 'label'), ctx.file, path),
    hint: parseTextDef(childElement(el, 'hint'), ctx.file, path),
    appearance: attr(el, 'appearance'),
    line: el.line,
    items,
    itemset: itemsetEl === undefined ? undefined : parseItemset(itemsetEl, path, ctx),
    mediatype: attr(el, 'mediatype'),
  };
}

function parseRepeat(el: XmlElement, contextPath: string, ctx: BodyParseContext): RepeatControlDef {
  const path = refOf(el, contextPath, ctx, 'nodeset');
  if (path === undefined)
    throw new XFormError(
      'form-invalid',
      `${where(ctx)}<repeat> on line ${el.line} has no nodeset`,
      fileOf(ctx),
    );
  const countSrc = attr(el, 'jr:count');
  const repeat: RepeatControlDef = {
    kind: 'repeat',
    path,
    label: parseTextDef(childElement(el, 'label'), ctx.file, path),
    hint: undefined,
    appearance: attr(el, 'appearance'),
    line: el.line,
    children: parseChildren(el, path, ctx),
    count:
      countSrc === undefined || countSrc.trim() === ''
        ? undefined
        : compileExpression(countSrc, { file: ctx.file, ref: path, attribute: 'jr:count' }),
    noAddRemove: isTrue(attr(el, 'jr:noAddRemove')),
  };
  ctx.repeats.set(path, repeat);
  return repeat;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^\s*(true\(\)|true)\s*$/.test(v);
}

function parseItemset(el: XmlElement, path: string, ctx: BodyParseContext): ItemsetDef {
  const nodeset = attr(el, 'nodeset');
  if (nodeset === undefined)
    throw new XFormError('form-invalid', `${where(ctx)}the itemset of ${path} has no nodeset`, {
      ...fileOf(ctx),
      ref: path,
    });
  const labelRef = attr(childElement(el, 'label') ?? el, 'ref');
  const valueEl = childElement(el, 'value');
  const valueRef = valueEl === undefined ? undefined : attr(valueEl, 'ref');
  if (valueRef === undefined)
    throw new XFormError('form-invalid', `${where(ctx)}the itemset of ${path} has no <value ref>`, {
      ...fileOf(ctx),
      ref: path,
    });
  return {
    nodeset: compileExpression(nodeset, { file: ctx.file, ref: path, attribute: 'itemset nodeset' }),
    label: labelRef === undefined ? undefined : parseItemsetLabel(labelRef, ctx.file, path),
    value: compileExpression(valueRef, { file: ctx.file, ref: path, attribute: 'itemset value' }),
  };
}

/**
 * A `<setvalue>` in the body: inside a control it fires when that control's value changes
 * (ODK's xforms-value-changed, which JavaRosa also reads); inside a repeat with
 * `jr-insert` it fires for each new repeat instance.
 */
export function collectSetvalue(
  el: XmlElement,
  contextPath: string,
  sourcePath: string | undefined,
  ctx: { file: string | undefined; setvalues: SetvalueDef[] },
): void {
  const ref = attr(el, 'ref');
  if (ref === undefined) return;
  const path = resolveRefPath(ref, contextPath);
  if (path === undefined)
    throw new XFormError('form-invalid', `${where(ctx)}<setvalue ref="${ref}"> is not a path`, {
      ...fileOf(ctx),
      ref,
    });
  const events = (attr(el, 'event') ?? (sourcePath === undefined ? 'xforms-ready' : 'xforms-value-changed'))
    .split(/\s+/)
    .filter((e) => e !== '');
  const valueSrc = attr(el, 'value');
  const value =
    valueSrc === undefined || valueSrc.trim() === ''
      ? undefined
      : compileExpression(valueSrc, { file: ctx.file, ref: path, attribute: 'setvalue value' });
  for (const ev of events) {
    // JavaRosa's SetValueAction knows these events; others (odk-new-repeat is ODK's
    // name for jr-insert) are mapped or ignored.
    const event: SetvalueEvent | undefined =
      ev === 'odk-new-repeat'
        ? 'jr-insert'
        : ev === 'xforms-ready' ||
            ev === 'jr-insert' ||
            ev === 'xforms-revalidate' ||
            ev === 'xforms-value-changed'
          ? ev
          : ev === 'odk-instance-first-load'
            ? 'xforms-ready'
            : undefined;
    if (event === undefined) continue;
    ctx.setvalues.push({
      event,
      path,
      value,
      text: textContent(el).trim(),
      ...(sourcePath === undefined || event !== 'xforms-value-changed' ? {} : { sourcePath }),
    });
  }
}

function where(ctx: { file: string | undefined }): string {
  return ctx.file === undefined ? '' : `${ctx.file}: `;
}

function fileOf(ctx: { file: string | undefined }): { file?: string } {
  return ctx.file === undefined ? {} : { file: ctx.file };
}
