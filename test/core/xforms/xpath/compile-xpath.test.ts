import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../../src/core/errors/xform-error.ts';
import { InstanceNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compileXPath, unknownFunctions } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import type { XPathFunction } from '../../../../src/core/xforms/xpath/xpath-types.ts';
import { toXPathNumber } from '../../../../src/core/xforms/xpath/xpath-values.ts';
import { ctxFor, docFromXml, evalAt, makeEnv, values } from './xpath-test-helpers.ts';

function caught(fn: () => unknown): XFormError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XFormError);
    return e as XFormError;
  }
  throw new Error('expected an XFormError');
}

describe('compileXPath: syntax errors', () => {
  it.each([
    ['', 1],
    ['   ', 1],
    ['/data/', 7],
    ['1 +', 4],
    ['(1', 3],
    ["'abc", 1],
    ['/data/a[1', 10],
    ['/data/#x', 7],
    ['foo::bar', 1],
    ['/data/sideways::x', 7],
    ['1 2', 3],
    ['concat(1,)', 10],
    ['/data/a]', 8],
    ['$', 1],
    ['@', 2],
  ])('%j fails with xpath-syntax at position %i', (source, pos) => {
    const e = caught(() => compileXPath(source));
    expect(e.code).toBe('xpath-syntax');
    expect(e.expression).toBe(source);
    expect(e.message).toContain(`position ${pos}`);
    expect(e.message).toContain(`"${source}"`);
  });

  it('checks built-in arity at compile time, naming the function', () => {
    const e = caught(() => compileXPath("if(true(), 'a')"));
    expect(e.code).toBe('xpath-syntax');
    expect(e.message).toMatch(/if\(\) takes 3 arguments, not 2/);
  });
});

describe('compileXPath: functions', () => {
  const doc = docFromXml('<data><a>2</a></data>');
  const data = doc.children[0] as InstanceNode;

  it('caches compiled expressions by source', () => {
    expect(compileXPath('/data/a + 1')).toBe(compileXPath('/data/a + 1'));
  });

  it('lists unknown functions, minus those the host supplies', () => {
    const c = compileXPath("jr:itext('x') = my-fn(concat(other(1), 'a')) and string-length('a')");
    expect(unknownFunctions(c)).toEqual(['jr:itext', 'my-fn', 'other']);
    expect(unknownFunctions(c, new Set(['jr:itext', 'other']))).toEqual(['my-fn']);
    expect(unknownFunctions(compileXPath('1 + 1'))).toEqual([]);
  });

  it('throws xpath-unsupported naming an unknown function when evaluated', () => {
    const e = caught(() => evalAt("1 + frobnicate('x')", data));
    expect(e.code).toBe('xpath-unsupported');
    expect(e.message).toContain('frobnicate()');
    expect(e.expression).toBe("1 + frobnicate('x')");
  });

  it('calls host functions, before the built-in ones', () => {
    const calls: unknown[] = [];
    const add: XPathFunction = (args) => {
      calls.push(args);
      return args.reduce<number>((s, a) => s + toXPathNumber(a), 0);
    };
    const now: XPathFunction = () => 'overridden';
    const env = makeEnv(
      {},
      {
        functions: new Map([
          ['add', add],
          ['now', now],
        ]),
      },
    );
    expect(evalAt("add(3, '5', /data/a)", data, env)).toBe(10);
    expect(evalAt('now()', data, env)).toBe('overridden');
    expect(calls).toHaveLength(1);
  });

  it('reads $variables from the context and fails on unknown ones', () => {
    const c = compileXPath("concat($name, ' ', $n + 1)");
    const ctx = {
      ...ctxFor(data),
      variables: new Map<string, string | number>([
        ['name', 'Ana'],
        ['n', 2],
      ]),
    };
    expect(c.evaluate(ctx)).toBe('Ana 3');
    const e = caught(() => c.evaluate(ctxFor(data)));
    expect(e.code).toBe('xpath-eval');
    expect(e.message).toContain('$name');
  });

  it('throws instance-missing naming the instance id', () => {
    const e = caught(() => evalAt("count(instance('locations')/locations/location)", data));
    expect(e.code).toBe('instance-missing');
    expect(e.ref).toBe('locations');
    expect(e.message).toContain('locations');
  });

  it('typed evaluation helpers convert the result', () => {
    const ctx = ctxFor(data);
    expect(compileXPath('/data/a').evaluateString(ctx)).toBe('2');
    expect(compileXPath('/data/a').evaluateNumber(ctx)).toBe(2);
    expect(compileXPath('/data/a').evaluateBoolean(ctx)).toBe(true);
    expect(values(compileXPath('/data/*').evaluateNodes(ctx))).toEqual(['2']);
    const e = caught(() => compileXPath('1 + 1').evaluateNodes(ctx));
    expect(e.code).toBe('xpath-eval');
    expect(e.message).toContain('node-set');
  });

  it('wraps runtime failures as xpath-eval with the expression', () => {
    const e = caught(() => evalAt("regex('a', '(')", data));
    expect(e.code).toBe('xpath-eval');
    expect(e.expression).toBe("regex('a', '(')");
    expect(e.message).toContain('regex()');
  });
});

describe('compileXPath: paths', () => {
  const form = docFromXml(
    '<data xmlns="http://openrosa.org/formdesigner/x" xmlns:cc="http://commcarehq.org/xforms"><case_id>c2</case_id><q><r>1</r></q><cc:appVersion>v7</cc:appVersion></data>',
  );
  const casedb = docFromXml(
    '<casedb><case case_id="c1"><name>Ana</name></case><case case_id="c2"><name>Ben</name></case></casedb>',
  );
  const env = makeEnv({ casedb });
  const r = ((form.children[0] as InstanceNode).child('q') as InstanceNode).child('r') as InstanceNode;

  it('relative paths start at the context node', () => {
    expect(evalAt('.', r, env)).toEqual([r]);
    expect(evalAt('../../case_id', r, env)).toEqual([(form.children[0] as InstanceNode).child('case_id')]);
    expect(evalAt('string(../../appVersion)', r, env)).toBe('v7');
    expect(evalAt('string(../../cc:appVersion)', r, env)).toBe('v7');
  });

  it('absolute paths inside instance() predicates mean the form, as in JavaRosa', () => {
    expect(evalAt("instance('casedb')/casedb/case[@case_id = /data/case_id]/name", r, env)).toEqual([
      expect.objectContaining({ value: 'Ben' }),
    ]);
  });

  it('env.root decides where absolute paths start', () => {
    const caseNode = casedb.children[0]?.children[0] as InstanceNode;
    expect(evalAt('string(name)', caseNode, env)).toBe('Ana');
    expect(evalAt('string(/data/case_id)', caseNode, { ...env, root: form })).toBe('c2');
    // Contextualized on the context node (see the repeat test below): /casedb/case is this case.
    expect(evalAt('count(/casedb/case)', caseNode, env)).toBe(1);
    expect(evalAt('count(/casedb/*)', caseNode, env)).toBe(2);
  });

  it('absolute paths are contextualized to the repeat instance of the context, as in JavaRosa', () => {
    const doc = docFromXml(
      '<data><rep><a>1</a><b/></rep><rep><a>2</a><b/></rep><rep><a>3</a><b/></rep><total/></data>',
    );
    const data = doc.children[0] as InstanceNode;
    const b2 = (data.children[1] as InstanceNode).child('b') as InstanceNode;
    const total = data.child('total') as InstanceNode;
    expect(evalAt('/data/rep/a * 10', b2)).toBe(20);
    expect(evalAt('string(/data/rep/a)', b2)).toBe('2');
    expect(evalAt('count(/data/rep)', b2)).toBe(1);
    expect(evalAt('count(/data/rep[a > 0])', b2)).toBe(3); // a predicate stops contextualizing
    expect(evalAt('sum(/data/rep/a)', total)).toBe(6);
    expect(evalAt('count(/data/rep)', total)).toBe(3);
    expect(evalAt('count(/data/rep/a)', total)).toBe(3);
    expect(evalAt("count(/data/rep[b = '']) + count(/data/rep/../rep)", b2)).toBe(6);
  });

  it('a tree without a document node: its top element is the root element', () => {
    const top = new InstanceNode('element', 'data');
    top.appendChild(new InstanceNode('element', 'x')).value = '9';
    expect(evalAt('/data/x + 1', top)).toBe(10);
    expect(evalAt('count(/other/x)', top)).toBe(0);
  });

  it('current() is the node the expression was evaluated for, also in predicates', () => {
    const doc = docFromXml('<data><item id="a"/><item id="b"/><sel>b</sel></data>');
    const sel = (doc.children[0] as InstanceNode).child('sel') as InstanceNode;
    expect(evalAt('count(../item[@id = current()])', sel)).toBe(1);
    expect(evalAt('string(../item[@id = current()]/@id)', sel)).toBe('b');
  });
});
