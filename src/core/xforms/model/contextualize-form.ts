import type { BindDef, ControlDef, SetvalueDef, TextDef } from '../form-def.ts';
import type { CompiledXPath } from '../xpath/xpath-types.ts';
import { contextualizeExpression } from './contextualize-expression.ts';
import { parentPath } from './generic-path.ts';

/**
 * Applies JavaRosa's contextualization of absolute paths (see contextualize-expression.ts)
 * to every expression of a parsed form, each against the node it is evaluated for: a
 * bind's expressions against its nodeset, a setvalue's value against its target, a
 * `jr:count` against the repeat's parent, an itemset and inline labels against their
 * question. Itext outputs are shared between questions and are contextualized when shown.
 * Rewrites the given objects in place (they are fresh from the parser).
 */
export function contextualizeForm(
  binds: BindDef[],
  setvalues: SetvalueDef[],
  body: ControlDef[],
  repeats: ReadonlySet<string>,
): void {
  if (repeats.size === 0) return;
  const cx = (e: CompiledXPath | undefined, path: string): CompiledXPath | undefined =>
    e === undefined ? undefined : contextualizeExpression(e, path, repeats);
  for (let i = 0; i < binds.length; i++) {
    const b = binds[i] as BindDef;
    binds[i] = {
      ...b,
      relevant: cx(b.relevant, b.path),
      required: cx(b.required, b.path),
      readonly: cx(b.readonly, b.path),
      constraint: cx(b.constraint, b.path),
      calculate: cx(b.calculate, b.path),
    };
  }
  for (let i = 0; i < setvalues.length; i++) {
    const sv = setvalues[i] as SetvalueDef;
    setvalues[i] = { ...sv, value: cx(sv.value, sv.path) };
  }
  const text = (t: TextDef | undefined, path: string): TextDef | undefined => {
    if (t?.parts === undefined) return t;
    return {
      ...t,
      parts: t.parts.map((p) => (typeof p === 'string' ? p : { expr: cx(p.expr, path) as CompiledXPath })),
    };
  };
  const visit = (controls: ControlDef[]): void => {
    for (let i = 0; i < controls.length; i++) {
      const c = controls[i] as ControlDef;
      if (c.kind === 'group') {
        const path = c.path;
        controls[i] = { ...c, label: path === undefined ? c.label : text(c.label, path) };
        visit(c.children);
      } else if (c.kind === 'repeat') {
        // Mutated in place: the repeats map of the FormDef holds this same object.
        c.count = cx(c.count, parentPath(c.path));
        visit(c.children);
      } else {
        const itemset =
          c.itemset === undefined
            ? undefined
            : { ...c.itemset, nodeset: cx(c.itemset.nodeset, c.path) as CompiledXPath };
        controls[i] = { ...c, label: text(c.label, c.path), hint: text(c.hint, c.path), itemset };
      }
    }
  };
  visit(body);
}
