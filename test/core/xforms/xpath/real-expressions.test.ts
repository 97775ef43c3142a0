import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../../src/core/errors/xform-error.ts';
import { parseXmlTree, type XmlElement } from '../../../../src/core/protocol/xml-tree.ts';
import { compileXPath, unknownFunctions } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import { samplesDir, xmlFilesUnder } from './xpath-test-helpers.ts';

/**
 * Every XPath expression in commcare-core's test apps and forms must compile: binds
 * (relevant, constraint, calculate, required, readonly, nodeset), body refs and nodesets,
 * outputs, setvalues, repeat counts, and in suites the <xpath function>, datum nodesets
 * and values, menu and command relevancy, assertions and stack conditions.
 */
const SAMPLES = samplesDir();

interface Found {
  file: string;
  where: string;
  expr: string;
}

/** Which attributes hold XPath, by element local name (`*` = any element). */
const XPATH_ATTRS: Record<string, string[]> = {
  bind: ['nodeset', 'relevant', 'constraint', 'calculate', 'required', 'readonly'],
  setvalue: ['ref', 'value'],
  output: ['value', 'ref'],
  input: ['ref'],
  select: ['ref'],
  select1: ['ref'],
  upload: ['ref'],
  trigger: ['ref'],
  range: ['ref'],
  group: ['ref'],
  repeat: ['nodeset', 'count'],
  itemset: ['nodeset'],
  value: ['ref'],
  label: ['ref'],
  xpath: ['function'],
  datum: ['nodeset', 'value'],
  menu: ['relevant'],
  command: ['relevant'],
  assert: ['test'],
  create: ['if'],
  push: ['if'],
  clear: ['if'],
  rewind: ['value'],
};

const XFORMS_NS = 'http://www.w3.org/2002/xforms';

function collect(el: XmlElement, file: string, out: Found[], inSuite: boolean): void {
  const attrs = XPATH_ATTRS[el.local];
  // Body `label ref` is itext (jr:itext('id')), XPath too; `value ref` likewise.
  if (attrs !== undefined && (inSuite || el.uri === XFORMS_NS || el.uri === '' || el.local === 'repeat')) {
    for (const a of el.attrs) {
      if (!attrs.includes(a.local)) continue;
      // `jr:count` on repeat is XPath; plain `count` elsewhere is not ours.
      if (a.local === 'count' && a.prefix !== 'jr') continue;
      const v = a.value.trim();
      if (v === '') continue;
      out.push({ file, where: `<${el.name} ${a.name}>`, expr: v });
    }
  }
  // Suite datum/value children are written as elements too: <value>expr</value> is not used.
  for (const c of el.children) if (typeof c !== 'string') collect(c, file, out, inSuite);
}

function gather(): { found: Found[]; files: number; unreadable: string[] } {
  const paths = xmlFilesUnder(SAMPLES);
  const found: Found[] = [];
  const unreadable: string[] = [];
  let files = 0;
  for (const p of paths) {
    const rel = relative(SAMPLES, p);
    let root: XmlElement;
    try {
      root = parseXmlTree(readFileSync(p, 'utf8'), { file: rel });
    } catch {
      unreadable.push(rel);
      continue;
    }
    const isForm = root.local === 'html';
    const isSuite = root.local === 'suite';
    if (!isForm && !isSuite) continue;
    files++;
    collect(root, rel, found, isSuite);
  }
  return { found, files, unreadable };
}

describe('XPath in commcare-core sample apps and forms', () => {
  const { found, files } = gather();

  it('finds a substantial number of expressions', () => {
    console.log(`XPath expressions: ${found.length} in ${files} forms and suites`);
    expect(files).toBeGreaterThan(50);
    expect(found.length).toBeGreaterThan(1000);
  });

  it('compiles every one, except the deliberately broken ones', () => {
    const failures: string[] = [];
    for (const f of found) {
      try {
        compileXPath(f.expr);
      } catch (e) {
        expect(e).toBeInstanceOf(XFormError);
        failures.push(`${f.file} ${f.where} ${f.expr} -> ${(e as XFormError).code}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual(EXPECTED_FAILURES);
  });

  it('knows every function they call, except the ones hosts provide', () => {
    const unknown = new Set<string>();
    for (const f of found) {
      try {
        for (const n of unknownFunctions(compileXPath(f.expr))) unknown.add(n);
      } catch {
        // syntax failures are covered above
      }
    }
    expect([...unknown].sort()).toEqual(EXPECTED_UNKNOWN);
  });
});

/** Broken on purpose in commcare-core's resources (its tests expect these to fail). */
const EXPECTED_FAILURES: string[] = [
  'app_with_bad_numeric_badge/suite.xml <xpath function> ,3 -> xpath-syntax: Expected a step but found "," at position 1 in XPath ",3"',
  `xform_tests/xpath_args_parse_error.xml <bind calculate> selected('one', 'two', 'three','four') -> xpath-syntax: selected() takes 2 arguments, not 4, in XPath "selected('one', 'two', 'three','four')"`,
];

/**
 * jr:itext and jr:choice-name are the form model's (it knows the itext and the choices);
 * fail_function and my_double are test-only custom functions of CustomFunctionTest.
 */
const EXPECTED_UNKNOWN: string[] = ['fail_function', 'jr:choice-name', 'jr:itext', 'my_double'];
