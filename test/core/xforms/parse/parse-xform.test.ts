import { describe, expect, it } from 'vitest';
import { parseXForm } from '../../../../src/core/xforms/parse/parse-xform.ts';

function form(model: string, body: string, data: string): string {
  return `<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms" xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>T</h:title><model><instance><data xmlns="http://openrosa.org/formdesigner/T">${data}</data></instance>${model}</model></h:head>
  <h:body>${body}</h:body></h:html>`;
}

describe('parseXForm structure', () => {
  it('uses the first repeat instance as the template when none is marked, and keeps it', () => {
    const def = parseXForm(
      form(
        '',
        '<repeat nodeset="/data/r"><input ref="/data/r/x"><label>x</label></input></repeat>',
        '<r><x>d</x></r>',
      ),
    );
    expect(def.repeatTemplates.get('/data/r')?.children[0]?.value).toBe('d');
    expect(def.instance.children[0]?.children.map((c) => c.name)).toEqual(['r']);
  });

  it('finds templates of repeats nested in a template', () => {
    const def = parseXForm(
      form(
        '',
        '<repeat nodeset="/data/o"><repeat nodeset="/data/o/i"><input ref="/data/o/i/x"><label>x</label></input></repeat></repeat>',
        '<o jr:template=""><i jr:template=""><x/></i></o>',
      ),
    );
    expect([...def.repeatTemplates.keys()].sort()).toEqual(['/data/o', '/data/o/i']);
    expect(def.instance.children[0]?.children).toHaveLength(0);
  });

  it('reads binds with relative nodesets, types without prefix, preloads and bind ids', () => {
    const def = parseXForm(
      form(
        '<bind id="b1" nodeset="a" type="xsd:dateTime" jr:preload="timestamp" jr:preloadParams="start"/>',
        '<input bind="b1"><label>a</label></input>',
        '<a/>',
      ),
    );
    expect(def.binds[0]).toMatchObject({
      path: '/data/a',
      type: 'dateTime',
      preload: 'timestamp',
      preloadParams: 'start',
    });
    expect(def.body[0]).toMatchObject({ kind: 'input', path: '/data/a' });
  });

  it('orders calculates after what they read and ignores secondary-instance paths in predicates', () => {
    const def = parseXForm(
      form(
        `<bind nodeset="/data/c" calculate="/data/b + 1"/><bind nodeset="/data/b" calculate="/data/a * 2"/>
         <bind nodeset="/data/d" relevant="count(instance('f')/root/item[../flag = 'x']) &gt; 0"/>`,
        '',
        '<a/><b/><c/><d/>',
      ),
    );
    expect(def.triggerables.map((t) => t.targetPath)).toEqual(['/data/b', '/data/c', '/data/d']);
    expect(def.triggerables.find((t) => t.targetPath === '/data/d')?.refs).toEqual([]);
  });

  it('reads itext with forms and a default language', () => {
    const def = parseXForm(
      form(
        `<itext><translation lang="fr"><text id="t"><value>Bonjour</value></text></translation>
         <translation lang="en" default=""><text id="t"><value>Hello</value><value form="image">jr://file/a.png</value></text></translation></itext>`,
        '',
        '<a/>',
      ),
    );
    expect(def.itext.languages).toEqual(['fr', 'en']);
    expect(def.itext.defaultLanguage).toBe('en');
    expect(def.itext.translations.get('en')?.get('t')?.get('image')).toEqual(['jr://file/a.png']);
  });
});
