/**
 * Stored copies of photos (platform URLs expire). The image itself is a re-encoded file
 * without metadata (MediaFiles); the database keeps only who sent it, its type and size.
 * Photos are shown through short-lived signed links minted when a message is rendered for
 * the person it is addressed to; the core only addresses photos to the reporter and to the
 * handlers of the case.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from './db.js';
import type { Channel, PhotoRef } from '../messages.js';
import { PhotoRefused, type MediaFiles, type PhotoSource } from '../ports/photo-source.js';
import type { Clock } from '../ports/clock.js';

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** How long a signed link works. */
export const MEDIA_LINK_TTL_MS = 15 * 60_000;
/** Uploads no case or message refers to are removed after this long. */
export const ORPHAN_GRACE_MS = 24 * 60 * 60_000;
/** Conversation steps at which a photo is expected: flow name -> its steps. */
export const PHOTO_STEPS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['report', new Set(['photo'])],
  ['myreports', new Set(['addInfo', 'helpDetails'])],
]);

const MEDIA_ID = /^[A-Za-z0-9_-]{32}$/;

export interface MediaServiceDeps {
  db: Db;
  files: MediaFiles;
  clock: Clock;
  source?: PhotoSource;
  /** Re-encodes at the same time, overall and per person: more are answered "busy" at once (HTTP 429). */
  budget?: { global?: number; perOwner?: number };
}

/** A stored photo ready to be read: a file, or the bytes of a row from before files. */
export type MediaContent = { mime: string; size: number; path: string; bytes?: undefined } | { mime: string; size: number; bytes: Uint8Array; path?: undefined };

export function createMediaService(deps: MediaServiceDeps) {
  const { db, files, clock } = deps;
  const globalLimit = deps.budget?.global ?? 4;
  const ownerLimit = deps.budget?.perOwner ?? 2;
  let running = 0;
  const perOwner = new Map<string, number>();

  /** Takes a slot or refuses at once: waiting callers would hold their bytes (or sockets) meanwhile. */
  function acquire(owner: string): () => void {
    const mine = perOwner.get(owner) ?? 0;
    if (running >= globalLimit || mine >= ownerLimit) throw new PhotoRefused('busy');
    running++;
    perOwner.set(owner, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running--;
      const left = (perOwner.get(owner) ?? 1) - 1;
      if (left > 0) perOwner.set(owner, left);
      else perOwner.delete(owner);
    };
  }

  async function store(stream: Readable, ownerPersonId: string | null, maxBytes: number): Promise<string> {
    const stored = await files.ingest(stream, maxBytes);
    const id = randomBytes(24).toString('base64url');
    try {
      await db.media.create({
        data: { id, mime: stored.mime, size: stored.size, path: stored.file, ownerPersonId, linkKey: randomBytes(12).toString('base64url'), createdAt: clock.now() },
      });
    } catch (error) {
      await files.remove(stored.file);
      throw error;
    }
    return id;
  }

  function signature(id: string, exp: number, linkKey: string | null): string {
    return createHmac('sha256', files.linkSecret()).update(`${id}.${exp}.${linkKey ?? ''}`).digest('base64url');
  }

  const service = {
    /**
     * The person behind a channel account, when that account is at a step that expects a
     * photo (the report's photo step, or adding information to one's report); else null.
     */
    async photoExpectedFrom(channel: Channel, externalId: string): Promise<string | null> {
      const account = await db.channelAccount.findUnique({ where: { channel_externalId: { channel, externalId } }, select: { id: true } });
      return account ? service.photoExpectedForAccount(account.id) : null;
    },
    /** The same, by channel account id. */
    async photoExpectedForAccount(accountId: string): Promise<string | null> {
      const account = await db.channelAccount.findUnique({ where: { id: accountId }, select: { personId: true, conversation: { select: { flow: true, step: true } } } });
      const at = account?.conversation;
      return account && at?.flow && at.step && PHOTO_STEPS.get(at.flow)?.has(at.step) ? account.personId : null;
    },

    /**
     * Streams an upload into storage: at most `maxBytes` (PhotoRefused 'too_large'), JPEG, PNG or
     * WebP by magic bytes ('unsupported_type'), re-encoded without metadata; 'busy' when too many
     * uploads run already. The stream is not destroyed on a refusal (an HTTP request can still be
     * answered). Returns the media id.
     */
    async saveUploadStream(stream: Readable, options: { ownerPersonId: string; maxBytes?: number }): Promise<string> {
      const release = acquire(options.ownerPersonId);
      try {
        return await store(stream, options.ownerPersonId, Math.min(options.maxBytes ?? MAX_PHOTO_BYTES, MAX_PHOTO_BYTES));
      } finally {
        release();
      }
    },

    async get(id: string) {
      if (!MEDIA_ID.test(id)) return null;
      return db.media.findUnique({ where: { id }, select: { id: true, mime: true, size: true, path: true, ownerPersonId: true, linkKey: true, createdAt: true } });
    },

    /** Where to read a stored photo from (a file; or the database bytes of a row from before files). */
    async content(id: string): Promise<MediaContent | null> {
      if (!MEDIA_ID.test(id)) return null;
      const row = await db.media.findUnique({ where: { id }, select: { mime: true, size: true, path: true } });
      if (!row) return null;
      if (row.path) return { mime: row.mime, size: row.size ?? 0, path: files.absolutePath(row.path) };
      // Old rows are re-encoded into a file the first time they are read again.
      const old = await db.media.findUnique({ where: { id }, select: { bytes: true } });
      if (!old?.bytes) return null;
      try {
        const stored = await files.ingestBytes(old.bytes);
        await db.media.update({ where: { id }, data: { path: stored.file, mime: stored.mime, size: stored.size, bytes: null } });
        return { mime: stored.mime, size: stored.size, path: files.absolutePath(stored.file) };
      } catch {
        return null; // not an image we can vouch for: never served
      }
    },

    /**
     * Keeps our own copy of a photo a person sent; returns its media id. A web upload is
     * already stored (`mediaId`) and must be the sender's own; a platform photo is fetched
     * through the fenced PhotoSource and stored like an upload.
     */
    async adopt(channel: Channel, photo: PhotoRef, ownerPersonId?: string): Promise<string> {
      if (photo.mediaId) {
        const row = await service.get(photo.mediaId);
        if (!row || (ownerPersonId !== undefined && row.ownerPersonId !== ownerPersonId)) throw new PhotoRefused('not_expected', 'not this person\'s upload');
        return row.id;
      }
      if (channel === 'web') throw new PhotoRefused('not_expected', 'web photos are uploaded, never linked');
      if (!deps.source) throw new Error('no photo source configured');
      const release = acquire(ownerPersonId ?? `${channel}:anonymous`);
      try {
        const stream = await deps.source.fetch(channel, photo, MAX_PHOTO_BYTES);
        try {
          return await store(stream, ownerPersonId ?? null, MAX_PHOTO_BYTES);
        } finally {
          stream.destroy();
        }
      } finally {
        release();
      }
    },

    /** A link to the photo valid for 15 minutes: `/media/<id>?exp=<unix ms>&sig=<hmac>`. */
    async signedPath(id: string): Promise<string | undefined> {
      const row = await service.get(id);
      if (!row) return undefined;
      const exp = clock.now().getTime() + MEDIA_LINK_TTL_MS;
      return `/media/${id}?exp=${exp}&sig=${signature(id, exp, row.linkKey)}`;
    },

    /** Whether a link is one we signed for this photo, still valid, and not revoked (erasure rotates the key). */
    async verifyLink(id: string, exp: string | null, sig: string | null): Promise<boolean> {
      if (!MEDIA_ID.test(id) || !exp || !/^\d{1,16}$/.test(exp) || !sig || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return false;
      const expires = Number(exp);
      const now = clock.now().getTime();
      if (expires < now || expires > now + MEDIA_LINK_TTL_MS + 60_000) return false;
      const row = await service.get(id);
      if (!row) return false;
      const expected = Buffer.from(signature(id, expires, row.linkKey));
      const given = Buffer.from(sig);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },

    /**
     * Erasure: the person's photos no open case needs are deleted (file and row); those an open
     * case still shows are kept (re-encoded, so without metadata), no longer tied to the person,
     * and every link already handed out stops working.
     */
    async eraseOwnedBy(personId: string): Promise<{ deleted: number; kept: number }> {
      const [cases, messages, owned] = await Promise.all([
        db.case.findMany({ where: { reporterId: personId, photoMediaId: { not: null } }, select: { photoMediaId: true } }),
        db.caseMessage.findMany({ where: { authorId: personId, photoMediaId: { not: null } }, select: { photoMediaId: true } }),
        db.media.findMany({ where: { ownerPersonId: personId }, select: { id: true } }),
      ]);
      const ids = [...new Set([...cases, ...messages].map((r) => r.photoMediaId!).concat(owned.map((m) => m.id)))];
      if (!ids.length) return { deleted: 0, kept: 0 };
      const stillShown = new Set(
        [
          ...(await db.case.findMany({ where: { photoMediaId: { in: ids }, status: { notIn: CLOSED } }, select: { photoMediaId: true } })),
          ...(await db.caseMessage.findMany({ where: { photoMediaId: { in: ids }, case: { status: { notIn: CLOSED } } }, select: { photoMediaId: true } })),
        ].map((r) => r.photoMediaId!),
      );
      let deleted = 0;
      for (const id of ids) {
        if (stillShown.has(id)) {
          await service.content(id); // an old row's bytes become a clean file now
          await db.media.updateMany({ where: { id }, data: { ownerPersonId: null, linkKey: randomBytes(12).toString('base64url') } });
        } else {
          deleted += await remove(id);
          await db.case.updateMany({ where: { photoMediaId: id }, data: { photoMediaId: null } });
          await db.caseMessage.updateMany({ where: { photoMediaId: id }, data: { photoMediaId: null } });
        }
      }
      return { deleted, kept: ids.length - deleted };
    },

    /** Removes uploads and downloads that no case, message or unfinished draft refers to after the grace period. */
    async sweepOrphans(graceMs = ORPHAN_GRACE_MS): Promise<number> {
      const before = new Date(clock.now().getTime() - graceMs);
      let removed = 0;
      for (;;) {
        const candidates = await db.media.findMany({ where: { createdAt: { lt: before } }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: 200, skip: 0 });
        if (!candidates.length) break;
        const ids = candidates.map((c) => c.id);
        const used = new Set(
          [
            ...(await db.case.findMany({ where: { photoMediaId: { in: ids } }, select: { photoMediaId: true } })),
            ...(await db.caseMessage.findMany({ where: { photoMediaId: { in: ids } }, select: { photoMediaId: true } })),
          ].map((r) => r.photoMediaId!),
        );
        let removedNow = 0;
        for (const id of ids) {
          if (used.has(id)) continue;
          // A draft still waiting for its "send" keeps its photo.
          const inDraft = await db.conversation.count({ where: { OR: [{ data: { contains: id } }, { suspended: { contains: id } }] } });
          if (inDraft) continue;
          removedNow += await remove(id);
        }
        removed += removedNow;
        if (candidates.length < 200 || removedNow === 0) break;
      }
      return removed;
    },
  };

  async function remove(id: string): Promise<number> {
    const row = await db.media.findUnique({ where: { id }, select: { path: true } });
    if (!row) return 0;
    await db.media.deleteMany({ where: { id } });
    if (row.path) await files.remove(row.path);
    return 1;
  }

  return service;
}

/** Case statuses after which nobody needs the photo any more. */
const CLOSED = ['resolved', 'closed', 'closed_not_fixed', 'duplicate'];

export type MediaService = ReturnType<typeof createMediaService>;
