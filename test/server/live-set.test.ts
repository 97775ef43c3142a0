import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeLiveSet, type GraphNode } from '../../src/server/restore/live-set.ts';
import { samplesDir } from './helpers.ts';

const samples = samplesDir();

interface Scenario {
  name: string;
  owned?: string[];
  cases?: string[];
  closed?: string[];
  subcases?: [string, string][];
  extensions?: [string, string][];
  outcome: string[];
  skip?: string;
}

function load(path: string): Scenario[] {
  return JSON.parse(readFileSync(resolve(samples, path), 'utf8')) as Scenario[];
}

function run(s: Scenario): string[] {
  const nodes = new Map<string, GraphNode>();
  const node = (id: string): GraphNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { owned: false, closed: false, edges: [] };
      nodes.set(id, n);
    }
    return n;
  };
  for (const id of s.owned ?? []) node(id).owned = true;
  for (const id of s.cases ?? []) node(id);
  for (const id of s.closed ?? []) node(id).closed = true;
  for (const [a, b] of s.subcases ?? []) {
    node(b);
    node(a).edges.push({ target: b, relationship: 'child' });
  }
  for (const [a, b] of s.extensions ?? []) {
    node(b);
    node(a).edges.push({ target: b, relationship: 'extension' });
  }
  return [...computeLiveSet(nodes)].sort();
}

// HQ's server-side IndexTreeTest corpus and commcare-core's purge corpus are the oracle.
describe.each([
  [
    'commcare-hq',
    'commcare-hq/corehq/ex-submodules/casexml/apps/phone/tests/data/case_relationship_tests.json',
  ],
  ['commcare-core', 'commcare-core/case_relationship_tests.json'],
])('live set against %s case_relationship_tests.json', (_label, path) => {
  const scenarios = load(path).filter((s) => s.skip === undefined);
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    expect(run(s)).toEqual([...s.outcome].sort());
  });
});
