import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take longest (most of it waiting in real time: a platform's rate limit, a spawned
 * service, a browser), started first. Without this a clean clone, which has no timings from an
 * earlier run, starts the largest files first, and these small ones would run last, alone on one
 * worker while the other has nothing left to do (the reply flood did: it started last, and the pass
 * waited 200 s for it alone). From a run's JSON report on the 2-core machine, longest first.
 */
export const LONGEST_FIRST = [
  'test/durability/reply-flood.test.ts', // ~200 s, nearly all of it waiting out 1 message/s
  'test/security/web-session-flood.test.ts',
  'test/security/uploads.test.ts',
  'test/security/uploads-load.test.ts',
  'test/core/anonymity.test.ts',
  'test/participation/mediation.test.ts',
  'test/security/photos-exif.test.ts',
  'test/console/console-browser.test.ts',
  'test/participation/anonymity.test.ts',
  'test/p1/review-p1.test.ts',
  'test/channels/report-channels.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = LONGEST_FIRST.indexOf(path.relative(file.project.config.root, file.moduleId).split(path.sep).join('/'));
      return index < 0 ? LONGEST_FIRST.length : index;
    };
    // Array.prototype.sort is stable: the rest keep the order vitest gave them.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores on CI: more workers only fight over them.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
