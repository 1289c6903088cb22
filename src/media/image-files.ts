/**
 * Stored photos on disk. Bytes are streamed to a temporary file (never held whole in the JS
 * heap, never passed through the ORM), their type is decided by magic bytes, and the image is
 * re-encoded by sharp (libvips) into a JPEG without EXIF, XMP, IPTC or ICC metadata: GPS, camera
 * and owner tags cannot survive. Only the re-encoded file is kept. The decoding runs in a
 * separate process (reencode-worker.ts): libvips' native memory and any decoder crash stay
 * out of the service.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PhotoRefused, type MediaFiles } from '../core/ports/photo-source.js';
import { PROJECT_ROOT } from '../project-root.js';

/** One image may take this long to re-encode; then the worker is restarted and the photo refused. */
const JOB_TIMEOUT_MS = 60_000;

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

/** The type the bytes really are (not what a header claims); SVG, GIF, HTML and the rest are undefined. */
export function sniffImage(head: Uint8Array): ImageType | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** Counts bytes (failing past the cap) and checks the magic bytes as soon as 12 have arrived. */
class ImageGuard extends Transform {
  bytes = 0;
  type: ImageType | undefined;
  private head = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(new PhotoRefused('too_large', `more than ${this.maxBytes} bytes`));
    if (!this.type && this.head.length < 12) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, 12 - this.head.length)]);
      if (this.head.length >= 12 && !this.decide()) return done(new PhotoRefused('unsupported_type'));
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes === 0) return done(new PhotoRefused('empty'));
    if (!this.type && !this.decide()) return done(new PhotoRefused('unsupported_type'));
    done();
  }

  private decide(): boolean {
    this.type = sniffImage(this.head);
    return Boolean(this.type);
  }
}

export function createImageFiles(dir: string): MediaFiles & { tempDir: string; close(): Promise<void> } {
  const tempDir = path.join(dir, 'tmp');
  mkdirSync(tempDir, { recursive: true, mode: 0o700 });
  // Temporary files left by a crash are never needed again.
  for (const name of readdirSync(tempDir)) rmSync(path.join(tempDir, name), { force: true });
  let secret: Buffer | undefined;

  const newName = () => randomBytes(16).toString('hex');

  const worker = createReencodeWorker();

  /** Decodes the temporary file (in the worker process) and keeps a clean JPEG: upright, no metadata at all. */
  async function reencode(input: string): Promise<{ file: string; mime: string; size: number }> {
    const file = `${newName()}.jpg`;
    const target = path.join(dir, file);
    try {
      const size = await worker.run(input, target);
      return { file, mime: 'image/jpeg', size };
    } catch (error) {
      await unlink(target).catch(() => {});
      throw error instanceof PhotoRefused ? error : new PhotoRefused('bad_image', error instanceof Error ? error.message : String(error));
    }
  }

  return {
    tempDir,
    close: () => worker.stop(),
    async ingest(stream: Readable, maxBytes: number) {
      const temp = path.join(tempDir, newName());
      const guard = new ImageGuard(maxBytes);
      try {
        // The source is not destroyed on a refusal: an HTTP request can still be answered (the caller drains it).
        const from = stream.pipe(guard);
        stream.once('error', (error) => guard.destroy(error));
        // A client that goes away mid-upload closes the source without ending it.
        let ended = false;
        stream.once('end', () => (ended = true));
        stream.once('close', () => {
          if (!ended) guard.destroy(new PhotoRefused('empty', 'the upload was cut off'));
        });
        await pipeline(from, createWriteStream(temp, { mode: 0o600 }));
        return await reencode(temp);
      } finally {
        stream.unpipe(guard);
        await unlink(temp).catch(() => {});
      }
    },
    async ingestBytes(bytes: Uint8Array) {
      if (!sniffImage(bytes.subarray(0, 12))) throw new PhotoRefused('unsupported_type');
      const temp = path.join(tempDir, newName());
      await writeFile(temp, bytes, { mode: 0o600 });
      try {
        return await reencode(temp);
      } finally {
        await unlink(temp).catch(() => {});
      }
    },
    absolutePath(file: string) {
      if (!/^[a-f0-9]{32}\.jpg$/.test(file)) throw new Error('not a media file name');
      return path.join(dir, file);
    },
    async remove(file: string) {
      if (!/^[a-f0-9]{32}\.jpg$/.test(file)) return;
      await unlink(path.join(dir, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    linkSecret() {
      if (secret) return secret;
      const file = path.join(dir, '.link-secret');
      if (!existsSync(file)) {
        try {
          writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
        } catch (error) {
          // Another instance sharing the folder wrote it first: use theirs.
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      chmodSync(file, 0o600);
      secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
      if (secret.length < 32) throw new Error(`${file} does not hold a 32-byte hex key`);
      return secret;
    },
  };
}

/**
 * The re-encoder process (reencode-worker.ts), started on first use and again after it died.
 * libvips' native memory (tens of MB per large image) and any decoder crash stay out of the
 * service: its own memory does not grow with uploads. Two images at a time (its thread pool).
 */
function createReencodeWorker() {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  // Compiled, this code is inside the bundle (dist/src/main.js); the build writes the worker's own
  // entry to dist/src/media/ (scripts/build.mjs).
  const entry = ts ? path.join(path.dirname(here), 'reencode-worker.ts') : path.join(PROJECT_ROOT, 'dist', 'src', 'media', 'reencode-worker.js');
  let child: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(size: number): void; reject(error: Error): void; timer: NodeJS.Timeout }>();

  function start(): ChildProcess {
    const started = fork(entry, [], {
      execArgv: [...(ts ? ['--import', 'tsx'] : []), '--max-old-space-size=64'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', UV_THREADPOOL_SIZE: '2', MALLOC_ARENA_MAX: '2' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    started.on('message', (reply: { id: number; size?: number; error?: string }) => {
      const job = pending.get(reply.id);
      if (!job) return;
      pending.delete(reply.id);
      clearTimeout(job.timer);
      if (reply.error !== undefined || reply.size === undefined) job.reject(new PhotoRefused('bad_image', reply.error));
      else job.resolve(reply.size);
      if (!pending.size) idle(started);
    });
    started.once('exit', (code, signal) => {
      if (child === started) child = undefined;
      for (const [id, job] of pending) {
        pending.delete(id);
        clearTimeout(job.timer);
        job.reject(new PhotoRefused('bad_image', `the image worker stopped (${signal ?? code})`));
      }
    });
    started.on('error', () => {}); // reported through 'exit'
    return started;
  }

  /** An idle worker does not keep the service (or a test) running. */
  function idle(c: ChildProcess): void {
    c.unref();
    (c.channel as { unref?(): void } | undefined)?.unref?.();
  }
  function busy(c: ChildProcess): void {
    c.ref();
    (c.channel as { ref?(): void } | undefined)?.ref?.();
  }

  return {
    run(input: string, output: string): Promise<number> {
      child ??= start();
      const c = child;
      busy(c);
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new PhotoRefused('bad_image', 'the image took too long to re-encode'));
          c.kill('SIGKILL'); // a stuck decoder: start afresh
        }, JOB_TIMEOUT_MS);
        pending.set(id, { resolve, reject, timer });
        c.send({ id, input, output });
      });
    },
    async stop(): Promise<void> {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await exited;
    },
  };
}
