import type { Readable } from 'node:stream';

export interface StoredAudio {
  body: Readable;
  /** Bytes of the whole object. */
  size: number;
}

/** Where audio bytes live (a local directory, or S3-compatible object storage). */
export abstract class AudioStorage {
  abstract readonly driver: 'local' | 's3';
  abstract put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  abstract read(key: string): Promise<Buffer>;
  /** The object, or the byte range `start..end` (inclusive) of it. */
  abstract open(key: string, range?: { start: number; end: number }): Promise<StoredAudio>;
  abstract size(key: string): Promise<number>;
  /** Deletes the object; a missing one is not an error. */
  abstract delete(key: string): Promise<void>;
  /** A direct download link that expires (S3 presigned), or undefined to use Parley's route. */
  abstract signedUrl(key: string, contentType: string): Promise<string | undefined>;
  /** Throws when the store cannot be reached (readiness). */
  abstract check(): Promise<void>;
}
