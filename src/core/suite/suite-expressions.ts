import type { ParsedSuite, SuiteAssertion, SuiteDetail, SuiteDisplay } from './suite-model.ts';
import { textExpressions } from './suite-text.ts';

/** Every XPath expression a suite holds, so the loader can compile them all up front. */
export function suiteExpressions(suite: ParsedSuite): string[] {
  const out: string[] = [];
  const add = (e: string | undefined): void => {
    if (e !== undefined && e.trim() !== '') out.push(e);
  };
  const display = (d: SuiteDisplay): void => {
    out.push(...textExpressions(d.text), ...textExpressions(d.badge));
  };
  const assertions = (list: readonly SuiteAssertion[]): void => {
    for (const a of list) {
      add(a.test);
      out.push(...textExpressions(a.text));
    }
  };
  const detail = (d: SuiteDetail): void => {
    out.push(...textExpressions(d.title));
    add(d.nodeset);
    add(d.focus);
    for (const v of d.variables.values()) add(v);
    for (const f of d.fields) {
      out.push(
        ...textExpressions(f.header),
        ...textExpressions(f.template),
        ...textExpressions(f.sort?.text),
      );
    }
    for (const a of d.actions) {
      add(a.relevant);
      display(a.display);
    }
    for (const sub of d.details) detail(sub);
  };
  for (const m of suite.menus) {
    add(m.relevant);
    for (const c of m.commands) add(c.relevant);
    display(m.display);
    assertions(m.assertions);
  }
  for (const e of suite.entries) {
    display(e.display);
    assertions(e.assertions);
    for (const d of e.datums) {
      if (d.kind === 'computed') add(d.expression);
      else {
        add(d.nodeset);
        add(d.value);
      }
    }
  }
  for (const d of suite.details) detail(d);
  return out;
}
