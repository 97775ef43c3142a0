import { describe, expect, it } from 'vitest';
import { parseXmlTree } from '../../../../src/core/protocol/xml-tree.ts';
import { serializeInstance } from '../../../../src/core/xforms/model/serialize-instance.ts';
import { xmlToInstance } from '../../../../src/core/xforms/parse/xml-to-instance.ts';

describe('serializeInstance', () => {
  it('writes namespaces and prefixes as declared, empty elements, escaped text', () => {
    const src =
      '<data xmlns:jrm="http://dev.commcarehq.org/jr/xforms" xmlns="http://openrosa.org/formdesigner/X" name="F" uiVersion="1">' +
      '<q>a &amp; b &lt;c&gt;</q><empty/>' +
      '<n0:case xmlns:n0="http://commcarehq.org/case/transaction/v2" case_id="x&quot;y"><n0:create/></n0:case>' +
      '<orx:meta xmlns:orx="http://openrosa.org/jr/xforms" xmlns:cc="http://commcarehq.org/xforms"><orx:instanceID>i</orx:instanceID><cc:appVersion>v</cc:appVersion></orx:meta>' +
      '</data>';
    const root = xmlToInstance(parseXmlTree(src));
    const out = serializeInstance(root);
    expect(out).toBe(`<?xml version='1.0' ?>${src}`);
  });

  it('declares a namespace an element needs when no ancestor did', () => {
    const root = xmlToInstance(parseXmlTree('<data xmlns="urn:a"><x:b xmlns:x="urn:b"><x:c/></x:b></data>'));
    const b = root.children[0];
    if (b === undefined) throw new Error('no child');
    b.nsDecls = undefined; // as if built without declarations
    const out = serializeInstance(root);
    expect(out).toBe(`<?xml version='1.0' ?><data xmlns="urn:a"><x:b xmlns:x="urn:b"><x:c/></x:b></data>`);
  });

  it('leaves out what keep() rejects', () => {
    const root = xmlToInstance(parseXmlTree('<data><a>1</a><b>2</b></data>'));
    expect(serializeInstance(root, (n) => n.name !== 'b')).toBe(
      `<?xml version='1.0' ?><data><a>1</a></data>`,
    );
  });
});
