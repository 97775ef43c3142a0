import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../../src/core/errors/xform-error.ts';
import { parseXmlTree, type XmlElement } from '../../../../src/core/protocol/xml-tree.ts';
import { InstanceNode, type XPathNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compileXPath } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import { makeEnv, samplesDir, toNode, xmlFilesUnder } from './xpath-test-helpers.ts';

/**
 * Runs every bind of commcare-core's sample XForms (calculate, relevant, constraint,
 * required, readonly) on each node of its nodeset, over the form's blank primary
 * instance and its inline secondary instances. Nothing may fail except for reasons
 * outside the evaluator: instances the forms load from jr:// (casedb, session, fixtures),
 * functions hosts provide, the one form broken on purpose, and dates built from blank
 * answers, which JavaRosa refuses as well.
 */
function elements(el: XmlElement, local: string, out: XmlElement[] = []): XmlElement[] {
  if (el.local === local) out.push(el);
  for (const c of el.children) if (typeof c !== 'string') elements(c, local, out);
  return out;
}

function firstElement(el: XmlElement): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => typeof c !== 'string');
}

function documentOf(el: XmlElement): InstanceNode {
  const doc = InstanceNode.document();
  doc.appendChild(toNode(el));
  return doc;
}

describe('binds of the sample forms evaluate', () => {
  const failures: { file: string; expr: string; code: string; message: string }[] = [];
  let evaluated = 0;
  let forms = 0;
  for (const path of xmlFilesUnder(samplesDir())) {
    let root: XmlElement;
    try {
      root = parseXmlTree(readFileSync(path, 'utf8'));
    } catch {
      continue;
    }
    const model = root.local === 'html' ? elements(root, 'model')[0] : undefined;
    if (model === undefined) continue;
    const instances = elements(model, 'instance');
    const mainEl = instances.find((i) => !i.attrs.some((a) => a.local === 'id'));
    const mainRoot = mainEl === undefined ? undefined : firstElement(mainEl);
    if (mainRoot === undefined) continue;
    forms++;
    const doc = documentOf(mainRoot);
    const secondary: Record<string, InstanceNode> = {};
    for (const i of instances) {
      const id = i.attrs.find((a) => a.local === 'id')?.value;
      const top = firstElement(i);
      if (id !== undefined && top !== undefined) secondary[id] = documentOf(top);
    }
    const env = makeEnv(secondary, { root: doc });
    const file = relative(samplesDir(), path);
    const run = (expr: string, node: XPathNode): XPathNode[] | undefined => {
      try {
        const v = compileXPath(expr).evaluate({ node, position: 1, size: 1, env });
        evaluated++;
        return Array.isArray(v) ? v : undefined;
      } catch (e) {
        if (!(e instanceof XFormError)) throw e;
        failures.push({ file, expr, code: e.code, message: e.message });
        return undefined;
      }
    };
    for (const bind of elements(model, 'bind')) {
      const nodeset = bind.attrs.find((a) => a.local === 'nodeset')?.value;
      if (nodeset === undefined) continue;
      const nodes = run(nodeset, doc) ?? [];
      for (const a of bind.attrs) {
        if (!['calculate', 'relevant', 'constraint', 'required', 'readonly'].includes(a.local)) continue;
        for (const n of nodes) run(a.value, n);
      }
    }
  }

  it('evaluates well over a thousand bind expressions', () => {
    console.log(`bind evaluations: ${evaluated} in ${forms} forms; failures: ${failures.length}`);
    expect(forms).toBeGreaterThan(40);
    expect(evaluated).toBeGreaterThan(1000);
  });

  it('fails only for reasons outside the evaluator', () => {
    const unexpected = failures.filter((f) => {
      if (f.code === 'instance-missing') return false;
      if (f.code === 'xpath-unsupported') return !/(my_double|fail_function|jr:itext)\(\)/.test(f.message);
      if (f.code === 'xpath-syntax') return f.file !== 'xform_tests/xpath_args_parse_error.xml';
      // Binds evaluated on the blank instance: an empty list has no item 0 (the phone
      // throws too); in a running form the list is filled first.
      if (f.code === 'xpath-eval')
        return !/date\(\): ".*" is not a date|selected-at\(\) index 0 is outside a list of 0/.test(f.message);
      return true;
    });
    expect(unexpected).toEqual([]);
    expect(failures.filter((f) => f.code === 'xpath-eval').length).toBeLessThan(10);
  });
});

describe('format_date_tests.xml', () => {
  it('formats a date answer the same with and without date()', () => {
    const root = parseXmlTree(readFileSync(`${samplesDir()}/format_date_tests.xml`, 'utf8'));
    const model = elements(root, 'model')[0] as XmlElement;
    const doc = documentOf(firstElement(elements(model, 'instance')[0] as XmlElement) as XmlElement);
    const data = doc.children[0] as InstanceNode;
    (data.child('date') as InstanceNode).value = '2016-03-05';
    const env = makeEnv({}, { root: doc });
    const calcs = elements(model, 'bind').flatMap((b) => b.attrs.filter((a) => a.local === 'calculate'));
    expect(calcs).toHaveLength(2);
    for (const c of calcs) {
      expect(compileXPath(c.value).evaluateString({ node: data, position: 1, size: 1, env })).toBe(
        '5 Mar, 2016',
      );
    }
  });
});

describe('geopoint_tests.xml', () => {
  it('distance() between New York and San Francisco matches the spherical law of cosines', () => {
    const root = parseXmlTree(readFileSync(`${samplesDir()}/geopoint_tests.xml`, 'utf8'));
    const doc = documentOf(firstElement(elements(root, 'instance')[0] as XmlElement) as XmlElement);
    const data = doc.children[0] as InstanceNode;
    const ctx = { node: data, position: 1, size: 1, env: makeEnv({}, { root: doc }) };
    const rad = Math.PI / 180;
    const [a, b, c, d] = [40.7 * rad, -74.0 * rad, 37.8 * rad, -122.4 * rad];
    const cosines =
      6371009 * Math.acos(Math.sin(a) * Math.sin(c) + Math.cos(a) * Math.cos(c) * Math.cos(d - b));
    const got = compileXPath('distance(/data/new_york, /data/san_francisco)').evaluateNumber(ctx);
    expect(Math.abs(got - cosines)).toBeLessThan(1);
    expect(compileXPath('distance(/data/empty, /data/new_york)').evaluateNumber(ctx)).toBe(-1);
    expect(compileXPath('distance(/data/random_geopoint, /data/random_geopoint)').evaluateNumber(ctx)).toBe(
      0,
    );
  });
});
