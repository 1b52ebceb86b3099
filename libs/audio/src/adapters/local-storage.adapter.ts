import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile, access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AudioStorage, type StoredAudio } from '../ports/audio-storage.port';

/** Audio files in a directory (default ./data/audio): written whole, then renamed into place. */
export class LocalAudioStorage extends AudioStorage {
  readonly driver = 'local' as const;
  private readonly root: string;

  constructor(dir: string) {
    super();
    this.root = resolve(dir);
  }

  private path(key: string): string {
    // Keys are made by Parley (tenant/job/name); refuse anything that could leave the root.
    if (!/^[A-Za-z0-9._/-]+$/.test(key) || key.includes('..')) throw new Error(`bad key ${key}`);
    return join(this.root, key);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${randomUUID()}.part`;
    await writeFile(partial, bytes);
    await rename(partial, path);
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  async open(key: string, range?: { start: number; end: number }): Promise<StoredAudio> {
    const path = this.path(key);
    const { size } = await stat(path);
    return { body: createReadStream(path, range), size };
  }

  async size(key: string): Promise<number> {
    return (await stat(this.path(key))).size;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async signedUrl(): Promise<string | undefined> {
    return undefined;
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root);
  }
}
