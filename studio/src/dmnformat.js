// dmn-js reads DMN 1.3. Models written as DMN 1.1 or 1.2 are migrated by @bpmn-io/dmn-migrate;
// DMN 1.4, 1.5 and 1.6 differ from 1.3 only by elements the editors do not show, so they are
// opened under the 1.3 namespaces and saved back under their own.
import { migrateDiagram } from '@bpmn-io/dmn-migrate';

const DMN13 = 'https://www.omg.org/spec/DMN/20191111/';
const NEWER = ['https://www.omg.org/spec/DMN/20211108/', 'https://www.omg.org/spec/DMN/20230324/',
  'https://www.omg.org/spec/DMN/20240513/'];
const OLDER = ['http://www.omg.org/spec/DMN/20151101/dmn.xsd', 'http://www.omg.org/spec/DMN/20180521/MODEL/'];

export async function forEditor(xml) {
  const newer = NEWER.find((ns) => xml.includes(`${ns}MODEL/`));
  if (newer) return { xml: xml.split(newer).join(DMN13), original: newer };
  if (OLDER.some((ns) => xml.includes(ns))) return { xml: await migrateDiagram(xml), original: null };
  return { xml, original: null };
}

export function fromEditor(xml, original) {
  return original ? xml.split(DMN13).join(original) : xml;
}
