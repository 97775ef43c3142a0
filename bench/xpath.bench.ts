/**
 * XPath engine benchmark (src/core/xforms/xpath):
 *  - a typical bind expression, `/data/a + /data/b > 3 and selected(/data/c, 'x')`,
 *    compiled once and evaluated repeatedly (target: a few microseconds);
 *  - a casedb lookup, `instance('casedb')/casedb/case[@case_id = /data/case_id]/name`,
 *    over 1k / 10k / 50k cases (must grow linearly);
 *  - compiling every distinct expression of commcare-core's large TDH form, uncached.
 *
 * Run: `npx tsx bench/xpath.bench.ts [--write]` (`--write` appends to bench/RESULTS.md).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseXmlTree, type XmlElement } from '../src/core/protocol/xml-tree.ts';
import { InstanceNode } from '../src/core/xforms/tree/instance-node.ts';
import { compileXPath } from '../src/core/xforms/xpath/compile-xpath.ts';
import { parseXPath } from '../src/core/xforms/xpath/xpath-parser.ts';
import type { XPathEnvironment, XPathEvalContext } from '../src/core/xforms/xpath/xpath-types.ts';
import { appendToResults, runHeading, writeJsonIfAsked } from './results-file.ts';

function el(parent: InstanceNode, name: string, value = ''): InstanceNode {
  const n = parent.appendChild(new InstanceNode('element', name));
  n.value = value;
  return n;
}

function env(instances: Record<string, InstanceNode>): XPathEnvironment {
  return {
    instance: (id) => instances[id],
    now: () => new Date(),
    random: Math.random,
    uuid: () => crypto.randomUUID(),
  };
}

function timeIt(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(iterations, 1000); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return ((performance.now() - t0) / iterations) * 1000; // microseconds per call
}

const form = InstanceNode.document();
const data = el(form, 'data');
el(data, 'a', '2');
el(data, 'b', '3');
el(data, 'c', 'x y z');
const caseIdNode = el(data, 'case_id');

const lines: string[] = [];
const log = (s: string): void => {
  console.log(s);
  lines.push(s);
};

const bind = compileXPath("/data/a + /data/b > 3 and selected(/data/c, 'x')");
const ctx: XPathEvalContext = { node: data, position: 1, size: 1, env: env({}) };
if (bind.evaluate(ctx) !== true) throw new Error('bind expression gave the wrong answer');
log(`- bind expression: ${timeIt(200_000, () => bind.evaluate(ctx)).toFixed(2)} us per evaluation`);

const lookup = compileXPath("instance('casedb')/casedb/case[@case_id = /data/case_id]/name");
for (const n of [1_000, 10_000, 50_000]) {
  const casedb = InstanceNode.document();
  const root = el(casedb, 'casedb');
  for (let i = 0; i < n; i++) {
    const c = el(root, 'case');
    c.setAttribute('case_id', `case-${i}`);
    c.setAttribute('case_type', 'person');
    el(c, 'name', `Name ${i}`);
    el(c, 'age', String(i % 90));
  }
  caseIdNode.value = `case-${n - 1}`;
  const lctx: XPathEvalContext = { node: data, position: 1, size: 1, env: env({ casedb }) };
  const got = lookup.evaluateString(lctx);
  if (got !== `Name ${n - 1}`) throw new Error(`lookup gave ${got}`);
  const us = timeIt(Math.max(20, 200_000 / n), () => lookup.evaluate(lctx));
  log(
    `- casedb lookup by @case_id, ${n} cases: ${(us / 1000).toFixed(3)} ms (${((us * 1000) / n).toFixed(0)} ns per case)`,
  );
}

const tdh = resolve(
  import.meta.dirname,
  '../../shared/samples/commcare-core/app_performance/large_tdh_form.xml',
);
const alt = resolve(
  import.meta.dirname,
  '../../../shared/samples/commcare-core/app_performance/large_tdh_form.xml',
);
let xml: string | undefined;
for (const p of [tdh, alt]) {
  try {
    xml = readFileSync(p, 'utf8');
    break;
  } catch {
    // try the next location
  }
}
if (xml !== undefined) {
  const exprs = new Set<string>();
  const walk = (e: XmlElement): void => {
    for (const a of e.attrs) {
      if (['relevant', 'calculate', 'constraint', 'nodeset', 'ref', 'value'].includes(a.local))
        exprs.add(a.value);
    }
    for (const c of e.children) if (typeof c !== 'string') walk(c);
  };
  walk(parseXmlTree(xml));
  const list = [...exprs];
  const chars = list.reduce((n, e) => n + e.length, 0);
  const passes: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (const e of list) parseXPath(e);
    passes.push(performance.now() - t0);
  }
  // The first pass runs before the JIT has compiled the parser; the rest are warm.
  for (const [pass, ms] of [
    ['cold', passes[0] ?? 0],
    ['warm (best of 5)', Math.min(...passes.slice(1))],
  ] as const) {
    log(
      `- parse ${list.length} distinct expressions (${chars} chars) of large_tdh_form.xml, ${pass}: ${ms.toFixed(1)} ms (${((ms * 1000) / list.length).toFixed(1)} us each)`,
    );
  }
}

if (process.argv.includes('--write')) {
  appendToResults(
    'XPath engine',
    `${runHeading(`${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}`)}\n\n${lines.join('\n')}`,
  );
}

writeJsonIfAsked({ figures: lines.map((l) => l.replace(/^- /, '')) });
