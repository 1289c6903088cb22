/**
 * Short codes people read aloud or type on a phone: no 0/O, 1/I/L or other look-alikes.
 */
import { randomInt } from 'node:crypto';

export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function randomCode(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return out;
}

/** What a person typed -> the canonical code: case-insensitive, spaces and dashes ignored. */
export function normaliseCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s\-_.]/g, '');
}
