/**
 * S3's XML in: request documents (CreateBucketConfiguration, Delete, CompleteMultipartUpload)
 * read strictly; anything malformed is `MalformedXML`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

/** A parsed XML element: text, or child elements by name (repeated names give arrays). */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] | undefined };

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Object' || name === 'Part',
});

/**
 * Parses a request document, requiring the given root element. Anything malformed (not XML,
 * a DOCTYPE, another root) is S3's `MalformedXML`.
 *
 * @example
 * const root = parseXmlDocument(body, 'Delete'); // { Object: [{ Key: 'a' }], Quiet: 'true' }
 */
export function parseXmlDocument(body: Buffer, rootName: string): Record<string, XmlNode> {
  const text = body.toString('utf8');
  // No DOCTYPE: entity definitions are a denial-of-service vector and S3 accepts none.
  if (
    text.includes('<!DOCTYPE') ||
    text.includes('<!ENTITY') ||
    XMLValidator.validate(text) !== true
  ) {
    throw new S3Error('MalformedXML');
  }
  const doc = parser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(doc).filter((k) => k !== '#text');
  const root = doc[rootName];
  if (roots.length !== 1 || root === undefined) throw new S3Error('MalformedXML');
  if (typeof root === 'string') return {};
  return root as Record<string, XmlNode>;
}

/** The text of a child element (whitespace kept), or undefined when absent or not text. */
export function childText(node: XmlNode | XmlNode[] | undefined): string | undefined {
  if (node === undefined || Array.isArray(node)) return undefined;
  if (typeof node === 'string') return node;
  // An element with only a text node and whitespace siblings.
  const text = node['#text'];
  return typeof text === 'string' && Object.keys(node).length === 1 ? text : undefined;
}

/** The child elements named `name` as a list. */
export function children(
  node: Record<string, XmlNode | XmlNode[] | undefined>,
  name: string,
): XmlNode[] {
  const value = node[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
