import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { aws } from './errors.ts';

/** S3's smallest part but the last is 5 MiB; 8 MiB parts keep a 512 MB Lambda far from its memory. */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * Reads `chunks` into one part at a time: never more than a part (and a chunk) in memory, whatever the size.
 * A source smaller than a part is one PutObject; a larger one a multipart upload, aborted if anything fails
 * (the bucket's lifecycle aborts what an abort could not). No metadata besides the content type.
 */
export async function uploadStream(
  s3: S3Client,
  target: { bucket: string; key: string; contentType: string },
  chunks: AsyncIterable<Uint8Array>,
  partBytes = PART_BYTES,
): Promise<{ bytes: number; parts: number }> {
  const { bucket: Bucket, key: Key, contentType: ContentType } = target;
  const iterator = chunks[Symbol.asyncIterator]();
  let pending: Uint8Array | undefined;
  let done = false;
  /** The next part: `partBytes` bytes, or what is left. */
  const nextPart = async (): Promise<Buffer | undefined> => {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < partBytes) {
      let chunk = pending;
      pending = undefined;
      if (!chunk) {
        if (done) break;
        const next = await iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        chunk = next.value;
      }
      const room = partBytes - size;
      if (chunk.byteLength > room) {
        pending = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      }
      parts.push(chunk);
      size += chunk.byteLength;
    }
    return size || parts.length ? Buffer.concat(parts, size) : undefined;
  };

  const first = (await nextPart()) ?? Buffer.alloc(0);
  const second = first.byteLength === partBytes ? await nextPart() : undefined;
  if (!second) {
    await aws(`PutObject ${Key}`, () =>
      s3.send(
        new PutObjectCommand({ Bucket, Key, Body: first, ContentType, ContentLength: first.byteLength }),
      ),
    );
    return { bytes: first.byteLength, parts: 1 };
  }

  const { UploadId } = await aws(`CreateMultipartUpload ${Key}`, () =>
    s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType })),
  );
  const completed: { ETag: string; PartNumber: number }[] = [];
  let bytes = 0;
  try {
    let part: Buffer | undefined = first;
    let following: Buffer | undefined = second;
    while (part) {
      const PartNumber = completed.length + 1;
      const body: Buffer = part;
      const { ETag } = await aws(`UploadPart ${Key} #${PartNumber}`, () =>
        s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body })),
      );
      completed.push({ ETag: ETag ?? '', PartNumber });
      bytes += body.byteLength;
      part = following;
      following = part ? await nextPart() : undefined;
    }
    await aws(`CompleteMultipartUpload ${Key}`, () =>
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: completed } }),
      ),
    );
    return { bytes, parts: completed.length };
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
    await iterator.return?.();
    throw error;
  }
}
