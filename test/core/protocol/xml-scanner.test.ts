import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { XmlError } from '../../../src/core/errors/xml-error.ts';
import {
  TOKEN_CDATA,
  TOKEN_CLOSE,
  TOKEN_NONE,
  TOKEN_OPEN,
  TOKEN_TEXT,
  XmlScanner,
} from '../../../src/core/protocol/xml-scanner.ts';
import { SAMPLES_DIR } from '../../contract/samples.ts';

type Tok = ['open', string, Record<string, string>] | ['text', string] | ['close', string];

/** Tokens of a document fed in the given pieces; adjacent text and CDATA are merged. */
function scan(pieces: string[]): Tok[] {
  const sc = new XmlScanner();
  const out: Tok[] = [];
  const text = (t: string): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === 'text') last[1] += t;
    else out.push(['text', t]);
  };
  const drain = (): void => {
    for (let t = sc.next(); t !== TOKEN_NONE; t = sc.next()) {
      if (t === TOKEN_OPEN) out.push(['open', sc.name, { ...sc.attributes }]);
      else if (t === TOKEN_CLOSE) out.push(['close', sc.name]);
      else if (t === TOKEN_TEXT || t === TOKEN_CDATA) text(sc.text);
    }
  };
  for (const p of pieces) {
    sc.push(p);
    drain();
  }
  sc.finish();
  drain();
  sc.end();
  return out.filter((t) => t[0] !== 'text' || t[1] !== '');
}

/** The same token list from saxes (text outside the root dropped, as the scanner never reports it). */
function saxesTokens(xml: string): Tok[] {
  const p = new SaxesParser({ xmlns: false });
  const out: Tok[] = [];
  let depth = 0;
  const text = (t: string): void => {
    if (depth === 0) return;
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === 'text') last[1] += t;
    else out.push(['text', t]);
  };
  p.on('opentag', (t) => {
    depth++;
    out.push(['open', t.name, { ...(t.attributes as Record<string, string>) }]);
  });
  p.on('closetag', (t) => {
    depth--;
    out.push(['close', t.name]);
  });
  p.on('text', text);
  p.on('cdata', text);
  p.write(xml);
  p.close();
  return out.filter((t) => t[0] !== 'text' || t[1] !== '');
}

function saxesAccepts(xml: string): boolean {
  try {
    saxesTokens(xml);
    return true;
  } catch {
    return false;
  }
}

function scanError(pieces: string[]): XmlError {
  try {
    scan(pieces);
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    return e as XmlError;
  }
  throw new Error(`accepted: ${JSON.stringify(pieces.join(''))}`);
}

const DOC =
  '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- prolog -->\n<?pi body?>\n' +
  '<r:root xmlns:r="urn:r" a="1" b=\'two &amp; &lt;3&gt; &#x41;&#66;\' c="x\ty\r\nz">' +
  '\n  <e/>text &quot;q&quot; &apos;a&apos;<![CDATA[<raw> & ]] ]]>tail]]&gt;' +
  '<n:e n:k="v" xmlns:n="urn:n">é 😀 漢</n:e  >\r<!-- c --><?pi?>after' +
  '<empty a = "1" ></empty></r:root >\n<!-- epilog -->\n';

describe('XmlScanner', () => {
  it('reads elements, attributes, text, CDATA and references, skipping comments and PIs', () => {
    expect(scan([DOC])).toEqual([
      ['open', 'r:root', { 'xmlns:r': 'urn:r', a: '1', b: 'two & <3> AB', c: 'x y z' }],
      ['text', '\n  '],
      ['open', 'e', {}],
      ['close', 'e'],
      ['text', 'text "q" \'a\'<raw> & ]] tail]]>'],
      ['open', 'n:e', { 'n:k': 'v', 'xmlns:n': 'urn:n' }],
      ['text', 'é 😀 漢'],
      ['close', 'n:e'],
      ['text', '\nafter'],
      ['open', 'empty', { a: '1' }],
      ['close', 'empty'],
      ['close', 'r:root'],
    ]);
    // Same as saxes (CR LF is one newline, so one space in an attribute: XML 2.11, 3.3.3).
    expect(scan([DOC])).toEqual(saxesTokens(DOC.slice(1)));
  });

  it('gives the same tokens wherever the input is cut, even one character at a time', () => {
    const whole = scan([DOC]);
    for (let cut = 0; cut <= DOC.length; cut++)
      expect(scan([DOC.slice(0, cut), DOC.slice(cut)])).toEqual(whole);
    expect(scan([...DOC])).toEqual(whole);
  });

  it('attributes have no inherited members: constructor and __proto__ are plain names', () => {
    const [open] = scan(['<a constructor="c" __proto__="p" toString="t"/>']);
    const attrs = open?.[2] as Record<string, string>;
    expect(Object.keys(attrs)).toEqual(['constructor', '__proto__', 'toString']);
    const sc = new XmlScanner();
    sc.push('<a/>');
    sc.next();
    expect(sc.attributes.constructor).toBeUndefined();
    expect(sc.attributes.hasOwnProperty).toBeUndefined();
  });

  it('reports line and column of an error like saxes, counting characters not code units', () => {
    const e = scanError(['<a>\n  <b>😀😀</c>\n</a>']);
    expect(e.code).toBe('xml-malformed');
    expect(e.message).toMatch(/<\/c> does not match the start tag <b>/);
    expect({ line: e.line, column: e.column }).toEqual({ line: 2, column: 7 });
    const bad = scanError(['<a>\r\n\r\n', 'x\u0001</a>']);
    expect({ line: bad.line, column: bad.column }).toEqual({ line: 3, column: 1 });
  });

  // Each input is not well-formed XML 1.0 (but the DOCTYPE row); the scanner must reject
  // it with an XmlError.
  // `saxes` records what saxes 6 does with the same input: where it accepts, the XML
  // specification (production or constraint named) is followed instead.
  const MALFORMED: [input: string, saxes: 'rejects' | 'accepts', why: string][] = [
    ['', 'rejects', 'no root element [1]'],
    ['<?xml version="1.0"?>', 'rejects', 'no root element [1]'],
    ['<a></b>', 'rejects', 'WFC: Element Type Match'],
    ['<a><b></a></b>', 'rejects', 'WFC: Element Type Match'],
    ['<a>', 'rejects', 'unclosed element [39]'],
    ['<a><b/>', 'rejects', 'unclosed element [39]'],
    ['</a>', 'rejects', 'end tag without start [39]'],
    ['<a></a></a>', 'rejects', 'end tag after the root [27]'],
    ['<1a/>', 'rejects', 'Name [5]'],
    ['<a>< b/></a>', 'rejects', 'Name [5] right after <'],
    ['<a></ a>', 'rejects', 'ETag [42]'],
    ['<a></a b>', 'rejects', 'ETag [42]'],
    ['<a 1b="x"/>', 'rejects', 'Attribute name [41]'],
    ['<a b/>', 'rejects', 'Attribute [41]: Eq and value'],
    ['<a b=x/>', 'rejects', 'AttValue [10] is quoted'],
    ['<a b="x/>', 'rejects', 'unterminated AttValue [10]'],
    ['<a b="1" b="2"/>', 'rejects', 'WFC: Unique Att Spec'],
    ['<a b="1"c="2"/>', 'rejects', 'STag [40]: S between attributes'],
    ['<a/ >', 'rejects', 'EmptyElemTag [44]'],
    ['<a b="<"/>', 'rejects', 'WFC: No < in Attribute Values'],
    ['<a b="&#x1;"/>', 'rejects', 'WFC: Legal Character'],
    ['<a>&foo;</a>', 'rejects', 'WFC: Entity Declared'],
    ['<a>&amp</a>', 'rejects', 'EntityRef [68] ends with ;'],
    ['<a>& b</a>', 'rejects', 'Reference [67]'],
    ['<a>&#0;</a>', 'rejects', 'WFC: Legal Character'],
    ['<a>&#xD800;</a>', 'rejects', 'WFC: Legal Character'],
    ['<a>&#xFFFE;</a>', 'rejects', 'WFC: Legal Character'],
    ['<a>&#x110000;</a>', 'rejects', 'WFC: Legal Character'],
    ['<a>&#;</a>', 'rejects', 'CharRef [66]'],
    ['<a>&#x;</a>', 'rejects', 'CharRef [66]'],
    ['<a>&#X41;</a>', 'rejects', "CharRef [66]: lowercase 'x' only"],
    ['text<a/>', 'rejects', 'document [1]: text before the root'],
    ['<a/>text', 'rejects', 'document [1]: text after the root'],
    ['<a/>&amp;', 'rejects', 'document [1]: reference after the root'],
    ['<a/><b/>', 'rejects', 'document [1]: one root'],
    ['<a/><![CDATA[x]]>', 'rejects', 'document [1]: CDATA after the root'],
    ['<![CDATA[x]]><a/>', 'rejects', 'document [1]: CDATA before the root'],
    ['<a>]]></a>', 'rejects', 'CharData [14]: no ]]>'],
    ['<a><!-- x</a>', 'rejects', 'unterminated Comment [15]'],
    ['<a><!-- a -- b --></a>', 'rejects', "Comment [15]: no '--' inside"],
    ['<a><!-- a ---></a>', 'rejects', "Comment [15]: no '-' before -->"],
    ['<a><![CDATA[x</a>', 'rejects', 'unterminated CDSect [18]'],
    ['<a><?pi x</a>', 'rejects', 'unterminated PI [16]'],
    ['<a><? x?></a>', 'rejects', 'PI [16]: target required'],
    ['<a><?xml version="1.0"?></a>', 'rejects', 'PITarget [17]: xml reserved'],
    ['<a><?XmL x?></a>', 'rejects', 'PITarget [17]: xml reserved'],
    [' <?xml version="1.0"?><a/>', 'rejects', 'XMLDecl [23] only at the start'],
    ['<?xml version="2.0"?><a/>', 'rejects', 'VersionNum [26]'],
    ['<?xml encoding="UTF-8"?><a/>', 'rejects', 'XMLDecl [23]: version first'],
    // Well-formed, but refused by design: no DTD is ever read, so no entity is defined.
    ['<!DOCTYPE a><a/>', 'accepts', 'DOCTYPE refused (no DTD processing, ever)'],
    ['<a><!DOCTYPE a></a>', 'rejects', 'doctypedecl [28] only in the prolog'],
    ['<a><!ELEMENT a></a>', 'rejects', 'markup declarations only in a DTD'],
    ['<a>\u0001</a>', 'rejects', 'Char [2]'],
    ['<a>\u000B</a>', 'rejects', 'Char [2]'],
    ['<a>\uFFFF</a>', 'rejects', 'Char [2]'],
    ['<a>\uFFFE</a>', 'rejects', 'Char [2]'],
    ['<a>\uDC00</a>', 'rejects', 'Char [2]: lone low surrogate'],
    [
      '<a>\uD800x</a>',
      'accepts',
      'Char [2]: lone high surrogate (saxes reads it and the next unit as a pair)',
    ],
    ['<a b="\uD800x"/>', 'accepts', 'Char [2]: lone high surrogate in an attribute'],
    ['<a>\uD800', 'rejects', 'Char [2]: lone high surrogate at the end'],
    ['<a b="\u0001"/>', 'rejects', 'Char [2] in an attribute value'],
    ['<a><!-- \u0001 --></a>', 'rejects', 'Char [2] in a comment'],
    ['<a\u0001/>', 'rejects', 'STag [40]'],
  ];

  it.each(MALFORMED)('rejects %j (saxes %s: %s)', (input, saxes) => {
    const e = scanError([input]);
    expect(e.code).toBe('xml-malformed');
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(saxesAccepts(input) ? 'accepts' : 'rejects').toBe(saxes);
    // Cut anywhere, the input is still rejected.
    for (let cut = 1; cut < input.length; cut++) scanError([input.slice(0, cut), input.slice(cut)]);
  });

  it('agrees with saxes on every XML file of the samples (tokens, or both rejecting)', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.xml')) files.push(p);
      }
    };
    walk(SAMPLES_DIR);
    expect(files.length).toBeGreaterThan(150);
    let both = 0;
    for (const f of files) {
      const xml = readFileSync(f, 'utf8');
      let want: Tok[] | null = null;
      try {
        want = saxesTokens(xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml);
      } catch {
        want = null;
      }
      if (want === null) {
        expect(() => scan([xml]), f).toThrow(XmlError);
        both++;
        continue;
      }
      expect(scan([xml]), f).toEqual(want);
      // And cut into 4 KB chunks.
      const pieces: string[] = [];
      for (let i = 0; i < xml.length; i += 4093) pieces.push(xml.slice(i, i + 4093));
      expect(scan(pieces), f).toEqual(want);
    }
    expect(both).toBeLessThan(files.length);
  });
});
