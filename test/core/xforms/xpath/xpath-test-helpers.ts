import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseXmlTree, type XmlElement } from '../../../../src/core/protocol/xml-tree.ts';
import { InstanceNode, type XPathNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compileXPath } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import type {
  XPathEnvironment,
  XPathEvalContext,
  XPathValue,
} from '../../../../src/core/xforms/xpath/xpath-types.ts';

/** An instance document from XML text, as the model builds them (leaf text on the element). */
export function docFromXml(xml: string): InstanceNode {
  const doc = InstanceNode.document();
  doc.appendChild(toNode(parseXmlTree(xml)));
  return doc;
}

export function toNode(el: XmlElement): InstanceNode {
  const n = new InstanceNode('element', el.local, el.uri, el.prefix);
  for (const a of el.attrs) {
    if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
    n.setAttribute(a.local, a.value, a.uri, a.prefix);
  }
  let text = '';
  for (const c of el.children) {
    if (typeof c === 'string') text += c;
    else n.appendChild(toNode(c));
  }
  if (n.children.length === 0) n.value = text.trim();
  return n;
}

/** The commcare-core samples folder: `../shared` next to the repo, or one level up from a worktree. */
export function samplesDir(): string {
  const repo = resolve(import.meta.dirname, '../../../..');
  const candidates = [
    resolve(repo, '../shared/samples/commcare-core'),
    resolve(repo, '../../shared/samples/commcare-core'),
  ];
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string);
}

/** Every .xml/.xhtml file under a folder. */
export function xmlFilesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) xmlFilesUnder(p, out);
    else if (/\.(xml|xhtml)$/.test(name)) out.push(p);
  }
  return out;
}

export const FIXED_NOW = new Date(2024, 2, 15, 10, 30, 45, 123); // local 2024-03-15 10:30:45.123

export function makeEnv(
  instances: Record<string, InstanceNode> = {},
  extra: Partial<XPathEnvironment> = {},
): XPathEnvironment {
  let seed = 1;
  return {
    instance: (id) => instances[id],
    now: () => FIXED_NOW,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    },
    uuid: () => '00000000-0000-4000-8000-000000000000',
    ...extra,
  };
}

export function ctxFor(node: XPathNode, env: XPathEnvironment = makeEnv()): XPathEvalContext {
  return { node, position: 1, size: 1, env };
}

export function evalAt(expr: string, node: XPathNode, env?: XPathEnvironment): XPathValue {
  return compileXPath(expr).evaluate(ctxFor(node, env));
}

/** Node values of a node-set result, for readable assertions. */
export function values(v: XPathValue): string[] {
  if (!Array.isArray(v)) throw new Error(`not a node-set: ${String(v)}`);
  return v.map((n) => (n.kind === 'attribute' ? `@${n.name}=${n.value}` : n.stringValue()));
}
