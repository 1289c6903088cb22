/**
 * The image re-encoder, in a process of its own (started by image-files.ts). libvips decodes
 * images in native memory the JS heap cap does not bound, and a hostile file could crash a
 * decoder: here neither touches the service. Messages: { id, input, output } in, { id, size }
 * or { id, error } out. Output: a JPEG rotated upright, at most MAX_SIDE px, without any
 * metadata (EXIF, GPS, XMP, IPTC, ICC): sharp writes none unless asked to.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

sharp.cache(false);
sharp.concurrency(1);

export const MAX_INPUT_PIXELS = 40_000_000;
const MAX_SIDE = 2560;

interface Job {
  id: number;
  input: string;
  output: string;
}

process.on('message', (job: Job) => {
  sharp(job.input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', sequentialRead: true })
    .rotate()
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 82 })
    .toFile(job.output)
    .then(async () => process.send!({ id: job.id, size: (await stat(job.output)).size }))
    .catch((error: unknown) => process.send!({ id: job.id, error: error instanceof Error ? error.message : String(error) }));
});
// The service went away: so does the worker.
process.on('disconnect', () => process.exit(0));
