import { parseXml, xmlChild, xmlChildren, xmlChildText } from '../../../src/train/data/xml';

describe('parseXml', () => {
  it('parses elements, attributes, text, entities, CDATA, comments and line numbers', () => {
    const src = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE annotation>
<annotation verified="yes">
  <!-- a comment with <tags> inside -->
  <filename>a &amp; b &lt;1&gt; &#65;&#x42;.jpg</filename>
  <object>
    <name><![CDATA[traffic <light>]]></name>
    <empty/>
    <bndbox><xmin>1</xmin><ymin>2</ymin></bndbox>
  </object>
  <object attr='x'><name>dog</name></object>
</annotation>`;
    const root = parseXml(src);
    expect(root.name).toBe('annotation');
    expect(root.attributes).toEqual({ verified: 'yes' });
    expect(root.line).toBe(3);
    expect(xmlChildText(root, 'filename')).toBe('a & b <1> AB.jpg');
    const objs = xmlChildren(root, 'object');
    expect(objs.map((o) => o.line)).toEqual([6, 11]);
    expect(xmlChildText(objs[0], 'name')).toBe('traffic <light>');
    expect(xmlChild(objs[0], 'empty')!.children).toEqual([]);
    expect(xmlChildText(xmlChild(objs[0], 'bndbox')!, 'ymin')).toBe('2');
    expect(objs[1].attributes).toEqual({ attr: 'x' });
    expect(xmlChild(root, 'missing')).toBeUndefined();
  });

  it('reports malformed documents with the line', () => {
    expect(() => parseXml('<a>\n<b>\n</a>')).toThrow(/XML line 3: end tag <\/a> does not match <b> \(line 2\)/);
    expect(() => parseXml('<a>\n<b></b>')).toThrow(/<a> \(line 1\) is never closed/);
    expect(() => parseXml('<a></a><b></b>')).toThrow(/second root element <b>/);
    expect(() => parseXml('text <a></a>')).toThrow(/text outside the root element/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/unknown entity &nbsp;/);
    expect(() => parseXml('<a><!-- x </a>')).toThrow(/unterminated comment/);
    expect(() => parseXml('')).toThrow(/no root element/);
  });
});
