/**
 * Multipart rules that need no I/O: the part list of CompleteMultipartUpload checked against
 * the uploaded parts (order, ETags, the 5 MiB minimum), the multipart ETag and composite
 * checksums.
 */
import { createHash } from 'node:crypto';
import { newChecksum, type ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './errors.js';
import type { PartRecord } from './metadata.js';
import { childText, children, type XmlNode } from './xml-input.js';

/** Every part but the last must be at least 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Part numbers run from 1 to 10,000. */
export const MAX_PART_NUMBER = 10_000;

/** One entry of CompleteMultipartUpload's list. */
export interface RequestedPart {
  partNumber: number;
  /** Unquoted. */
  etag: string;
  /** `ChecksumCRC32` etc., when the client sent one. */
  checksum?: string;
}

/** Reads the `<Part>` list of a `CompleteMultipartUpload` document. */
export function requestedParts(
  doc: Record<string, XmlNode | XmlNode[] | undefined>,
): RequestedPart[] {
  const parts = children(doc, 'Part');
  if (parts.length === 0) throw new S3Error('MalformedXML');
  return parts.map((p) => {
    if (typeof p === 'string') throw new S3Error('MalformedXML');
    const numberText = childText(p.PartNumber)?.trim() ?? '';
    const etag = childText(p.ETag)?.trim();
    if (!/^\d{1,5}$/.test(numberText) || etag === undefined) throw new S3Error('MalformedXML');
    const part: RequestedPart = {
      partNumber: Number(numberText),
      etag: etag.replace(/^&quot;|&quot;$/g, '').replace(/^"|"$/g, ''),
    };
    for (const name of Object.keys(p)) {
      if (name.startsWith('Checksum')) {
        const value = childText(p[name]);
        if (value !== undefined) part.checksum = value.trim();
      }
    }
    return part;
  });
}

/**
 * Checks a completion list against the uploaded parts and returns the parts to assemble, in
 * order. `InvalidPartOrder` unless strictly ascending; `InvalidPart` for a part that was not
 * uploaded or whose ETag (or checksum) differs; `EntityTooSmall` for a part under 5 MiB that is
 * not the last.
 */
export function selectParts(requested: RequestedPart[], uploaded: PartRecord[]): PartRecord[] {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const selected: PartRecord[] = [];
  let previous = 0;
  for (const r of requested) {
    if (r.partNumber <= previous) throw new S3Error('InvalidPartOrder');
    previous = r.partNumber;
    const part = byNumber.get(r.partNumber);
    if (part === undefined || part.etag !== r.etag) {
      throw new S3Error('InvalidPart', undefined, {
        UploadId: '',
        PartNumber: String(r.partNumber),
        ETag: r.etag,
      });
    }
    if (
      r.checksum !== undefined &&
      part.checksumValue !== null &&
      r.checksum !== part.checksumValue
    ) {
      throw new S3Error('InvalidPart');
    }
    selected.push(part);
  }
  for (let i = 0; i < selected.length - 1; i++) {
    const part = selected[i]!;
    if (part.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, {
        ProposedSize: String(part.size),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(part.partNumber),
        ETag: `"${part.etag}"`,
      });
    }
  }
  return selected;
}

/**
 * The multipart ETag: MD5 of the parts' binary MD5s, then `-N`.
 *
 * @example
 * multipartEtag(['5d41402abc4b2a76b9719d911017c592']); // '…-1'
 */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

/** A composite checksum: the algorithm over the parts' raw checksums, then `-N`. */
export function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partValues: readonly string[],
): string {
  const c = newChecksum(algorithm);
  for (const v of partValues) c.update(Buffer.from(v, 'base64'));
  return `${c.digest()}-${partValues.length}`;
}
