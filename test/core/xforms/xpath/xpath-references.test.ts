import { describe, expect, it } from 'vitest';
import { compileXPath } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import type { XPathReference } from '../../../../src/core/xforms/xpath/xpath-types.ts';

const refs = (source: string): XPathReference[] => compileXPath(source).references();
const abs = (...steps: string[]): XPathReference => ({ instance: null, absolute: true, steps });
const rel = (...steps: string[]): XPathReference => ({ instance: null, absolute: false, steps });
const inst = (id: string, ...steps: string[]): XPathReference => ({ instance: id, absolute: true, steps });

describe('references()', () => {
  it('lists absolute and relative paths without predicates', () => {
    expect(refs("/data/a + /data/b > 3 and selected(/data/c, 'x')")).toEqual([
      abs('data', 'a'),
      abs('data', 'b'),
      abs('data', 'c'),
    ]);
    expect(refs('../sibling + .')).toEqual([rel('..', 'sibling'), rel('.')]);
    expect(refs('@case_id')).toEqual([rel('@case_id')]);
    expect(refs('/data/rep[2]/n')).toEqual([abs('data', 'rep', 'n')]);
  });

  it('includes paths inside predicates, under the step they filter, and in arguments', () => {
    expect(refs("instance('casedb')/casedb/case[@case_id = /data/case_id]/name")).toEqual([
      inst('casedb', 'casedb', 'case', '@case_id'),
      abs('data', 'case_id'),
      inst('casedb', 'casedb', 'case', 'name'),
    ]);
    expect(refs("count(/data/rep[w = ''])")).toEqual([abs('data', 'rep', 'w'), abs('data', 'rep')]);
    expect(refs('/data/rep[../flag = 1][x/y > 2]/z')).toEqual([
      abs('data', 'flag'),
      abs('data', 'rep', 'x', 'y'),
      abs('data', 'rep', 'z'),
    ]);
    expect(refs("instance('groups')/root/group[count(../team[@id = current()/../t]) > 0]")).toEqual([
      inst('groups', 'root', 'team', '@id'),
      rel('..', 't'),
      inst('groups', 'root', 'team'),
      inst('groups', 'root', 'group'),
    ]);
  });

  it('tags instance() paths and reports current()/x as relative to the context', () => {
    expect(refs("instance('session')/session/data/case_id")).toEqual([
      inst('session', 'session', 'data', 'case_id'),
    ]);
    expect(refs('../item[@id = current()/../sel]')).toEqual([
      rel('..', 'item', '@id'),
      rel('..', 'sel'),
      rel('..', 'item'),
    ]);
    expect(refs('current()/../x')).toEqual([rel('..', 'x')]);
  });

  it('leaves predicates of computed node-sets as written', () => {
    expect(refs('(/data/a | /data/b)[w = 1]')).toEqual([abs('data', 'a'), abs('data', 'b'), rel('w')]);
  });

  it('keeps prefixes, wildcards, axes and // as written', () => {
    expect(refs('/data/orx:meta/*')).toEqual([abs('data', 'orx:meta', '*')]);
    expect(refs('count(//n)')).toEqual([abs('', 'n')]);
    expect(refs('/data/a/following-sibling::b')).toEqual([abs('data', 'a', 'following-sibling::b')]);
  });

  it('reports each path once and nothing for literals', () => {
    expect(refs('/data/a + /data/a')).toEqual([abs('data', 'a')]);
    expect(refs("1 + string-length('x')")).toEqual([]);
  });

  it('returns copies, so callers cannot corrupt the cache', () => {
    const c = compileXPath('/data/zz');
    c.references()[0]?.steps.push('oops');
    expect(c.references()).toEqual([abs('data', 'zz')]);
  });
});
