// dmn-js reads DMN 1.3. Models written as DMN 1.1 or 1.2 are migrated by @bpmn-io/dmn-migrate;
// DMN 1.4, 1.5 and 1.6 differ from 1.3 only by elements the editors do not show, so they are
// opened under the 1.3 namespaces and saved back under their own.
import { migrateDiagram } from '@bpmn-io/dmn-migrate';

const DMN13 = 'https://www.omg.org/spec/DMN/20191111/';
const NEWER = ['https://www.omg.org/spec/DMN/20211108/', 'https://www.omg.org/spec/DMN/20230324/',
  'https://www.omg.org/spec/DMN/20240513/'];
const OLDER = ['http://www.omg.org/spec/DMN/20151101/dmn.xsd', 'http://www.omg.org/spec/DMN/20180521/MODEL/'];

export async function forEditor(xml) {
  xml = withCellIds(xml);
  const newer = NEWER.find((ns) => xml.includes(`${ns}MODEL/`));
  if (newer) return { xml: xml.split(newer).join(DMN13), original: newer };
  if (OLDER.some((ns) => xml.includes(ns))) return { xml: await migrateDiagram(xml), original: null };
  return { xml, original: null };
}

export function fromEditor(xml, original) {
  return original ? xml.split(DMN13).join(original) : xml;
}

// dmn-js redraws a table cell when the element with the cell's id changes; a cell written without
// an id (ids are optional in DMN) would keep showing its old text after an edit. Such cells get
// ids made from their rule's id and their position, kept when the model is saved.
function withCellIds(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return xml; // dmn-js says where it fails
  const taken = new Set([...doc.querySelectorAll('[id]')].map((e) => e.getAttribute('id')));
  let added = 0;
  for (const rule of doc.getElementsByTagNameNS('*', 'rule')) {
    const base = rule.getAttribute('id') || 'rule';
    [...rule.children].forEach((entry, index) => {
      if (!['inputEntry', 'outputEntry'].includes(entry.localName) || entry.hasAttribute('id')) return;
      let id = `${base}_${entry.localName === 'inputEntry' ? 'in' : 'out'}${index + 1}`;
      while (taken.has(id)) id += '_';
      taken.add(id);
      entry.setAttribute('id', id);
      added += 1;
    });
  }
  return added ? new XMLSerializer().serializeToString(doc) : xml;
}
