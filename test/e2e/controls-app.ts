import { zipSync } from 'fflate';

/**
 * A small CommCare app built in the test, with one form holding every kind of control
 * the PWA must render: text with a hint, int with a constraint, decimal, date, time,
 * select one, select many, an itemset from a lookup instance, a relevance-driven group,
 * a field-list, a user-controlled repeat, a markdown label (with raw HTML that must stay
 * text) and a label with an `<output>` of a calculation.
 */
export const CONTROLS_XMLNS = 'http://fieldsim.test/controls';

const FORM = `<?xml version="1.0" encoding="UTF-8"?>
<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms"
  xmlns:jr="http://openrosa.org/javarosa" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  xmlns:orx="http://openrosa.org/jr/xforms">
<h:head><h:title>Controls</h:title><model>
<instance><data xmlns="${CONTROLS_XMLNS}" name="Controls" uiVersion="1" version="1">
  <name/><age/><weight/><visit_date/><visit_time/><colour/><fruits/><place/><show_more/>
  <more><detail/></more><page><first/><second/></page>
  <child jr:template=""><child_name/></child>
  <total/><note/><summary/>
  <orx:meta><orx:instanceID/><orx:timeStart/><orx:timeEnd/><orx:username/><orx:userID/><orx:deviceID/></orx:meta>
</data></instance>
<instance id="places"><places><place><id>n</id><name>North</name></place><place><id>s</id><name>South</name></place></places></instance>
<bind nodeset="/data/name" type="xsd:string" required="true()"/>
<bind nodeset="/data/age" type="xsd:int" constraint=". &lt; 120" jr:constraintMsg="jr:itext('age-msg')"/>
<bind nodeset="/data/weight" type="xsd:decimal"/>
<bind nodeset="/data/visit_date" type="xsd:date"/>
<bind nodeset="/data/visit_time" type="xsd:time"/>
<bind nodeset="/data/more" relevant="/data/show_more = 'yes'"/>
<bind nodeset="/data/total" calculate="count(/data/child[child_name != ''])"/>
<bind nodeset="/data/orx:meta/orx:instanceID" jr:preload="uid"/>
<itext><translation lang="en" default="">
  <text id="age-msg"><value>People here are younger than 120.</value></text>
  <text id="note"><value form="markdown">**Bold** and *italic*, [a link](https://example.org) and &lt;b&gt;raw&lt;/b&gt;</value><value>Plain note</value></text>
</translation></itext>
</model></h:head>
<h:body>
<input ref="/data/name"><label>Full name</label><hint>As on the ID card</hint></input>
<input ref="/data/age"><label>Age in years</label></input>
<input ref="/data/weight"><label>Weight in kg</label></input>
<input ref="/data/visit_date"><label>Visit date</label></input>
<input ref="/data/visit_time"><label>Visit time</label></input>
<select1 ref="/data/colour"><label>Colour</label>
  <item><label>Red</label><value>red</value></item><item><label>Blue</label><value>blue</value></item></select1>
<select ref="/data/fruits"><label>Fruits</label>
  <item><label>Apple</label><value>apple</value></item><item><label>Banana</label><value>banana</value></item></select>
<select1 ref="/data/place"><label>Place</label>
  <itemset nodeset="instance('places')/places/place"><label ref="name"/><value ref="id"/></itemset></select1>
<select1 ref="/data/show_more"><label>Show more</label>
  <item><label>Yes</label><value>yes</value></item><item><label>No</label><value>no</value></item></select1>
<group ref="/data/more"><label>More</label><input ref="/data/more/detail"><label>Detail</label></input></group>
<group ref="/data/page" appearance="field-list"><label>One page</label>
  <input ref="/data/page/first"><label>First</label></input><input ref="/data/page/second"><label>Second</label></input></group>
<group><label>Children</label><repeat nodeset="/data/child">
  <input ref="/data/child/child_name"><label>Child name</label></input></repeat></group>
<trigger ref="/data/note"><label ref="jr:itext('note')"/></trigger>
<trigger ref="/data/summary"><label>Children named: <output value="/data/total"/></label></trigger>
</h:body></h:html>
`;

/** A form whose calculation does not parse: opening it must name the file. */
const BROKEN_FORM = `<?xml version="1.0" encoding="UTF-8"?>
<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms">
<h:head><h:title>Broken</h:title><model>
<instance><data xmlns="http://fieldsim.test/broken"><x/></data></instance>
<bind nodeset="/data/x" calculate="1 +"/>
</model></h:head><h:body><input ref="/data/x"><label>X</label></input></h:body></h:html>
`;

const SUITE = `<?xml version="1.0" encoding="UTF-8"?>
<suite version="1">
  <xform><resource id="controls-form" version="1"><location authority="local">./modules-0/forms-0.xml</location></resource></xform>
  <locale language="default"><resource id="strings-default" version="1"><location authority="local">./default/app_strings.txt</location></resource></locale>
  <entry><form>${CONTROLS_XMLNS}</form><command id="m0-f0"><text><locale id="forms.m0f0"/></text></command></entry>
  <entry><form>${CONTROLS_XMLNS}</form><command id="m0-f1"><text><locale id="forms.m0f1"/></text></command>
    <assertions><assert test="1 = 2"><text><locale id="blocked.msg"/></text></assert></assertions></entry>
  <xform><resource id="broken-form" version="1"><location authority="local">./modules-0/forms-1.xml</location></resource></xform>
  <entry><form>http://fieldsim.test/broken</form><command id="m0-f2"><text><locale id="forms.m0f2"/></text></command></entry>
  <menu id="m0"><text><locale id="modules.m0"/></text><command id="m0-f0"/><command id="m0-f1"/><command id="m0-f2"/></menu>
</suite>
`;

const PROFILE = `<?xml version="1.0" encoding="UTF-8"?>
<profile version="1" uniqueid="controls-app" name="Controls app" update="">
  <suite><resource id="suite" version="1"><location authority="local">./suite.xml</location></resource></suite>
</profile>
`;

export function controlsCcz(): Buffer {
  const enc = new TextEncoder();
  return Buffer.from(
    zipSync({
      'profile.ccpr': enc.encode(PROFILE),
      'suite.xml': enc.encode(SUITE),
      'default/app_strings.txt': enc.encode(
        'modules.m0=Controls\nforms.m0f0=Every control\nforms.m0f1=Blocked form\nblocked.msg=This form is closed for now.\nforms.m0f2=Broken form\n',
      ),
      'modules-0/forms-0.xml': enc.encode(FORM),
      'modules-0/forms-1.xml': enc.encode(BROKEN_FORM),
    }),
  );
}
