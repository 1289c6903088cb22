import type { Channel, PhotoRef } from '../messages.js';

/** Fetches the bytes of a photo a person sent on a channel (platform URLs and file ids expire). */
export interface PhotoSource {
  fetch(channel: Channel, photo: PhotoRef): Promise<{ bytes: Uint8Array; mime: string }>;
}
