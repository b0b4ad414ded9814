/** S3's XML out: escaping and building response documents (no dependencies, so any module may use it). */

/** The S3 namespace every response document declares. */
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

// Characters XML would alter or reject as text: markup, and line ends and controls (which XML
// parsers normalise or refuse) as character references, so keys survive a round trip. Quotes
// need no escape in element text (S3 leaves them as they are).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>\u0000-\u0008\u000b\u000c\u000e-\u001f\r\n\t]/;
// eslint-disable-next-line no-control-regex
const ESCAPE_ALL = /[&<>\u0000-\u0008\u000b\u000c\u000e-\u001f\r\n\t]/g;

/**
 * Escapes text for an XML element's content.
 *
 * @example
 * escapeXml('a&b<c'); // 'a&amp;b&lt;c'
 */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPE_ALL, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** An element with escaped text content: `<Name>text</Name>`. */
export function el(name: string, text: string | number | boolean): string {
  return `<${name}>${typeof text === 'string' ? escapeXml(text) : String(text)}</${name}>`;
}

/** A response document: declaration and root element in S3's namespace around `inner`. */
export function xmlDocument(root: string, inner: string): string {
  return `${XML_DECLARATION}<${root} xmlns="${S3_NAMESPACE}">${inner}</${root}>`;
}
