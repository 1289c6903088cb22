/**
 * Which numbers of a bot text the web chat page turns into tel: links. This runs the page's own
 * code (the "tel: links" part of chat.js, without a browser): the emergency numbers as every
 * Vietnamese and English text lists them, 112 (search and rescue) included, are tappable; house
 * and alley numbers are not. web-browser.test.ts checks the same links in a real Chromium.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadResources, LOCALES_DIR } from '../../../src/i18n.js';

const CHAT_JS = path.resolve(import.meta.dirname, '..', '..', '..', 'src', 'channels', 'web', 'assets', 'chat.js');

type Span = [number, number, string];

/** phoneSpans() of chat.js, taken from the page's script between its markers. */
function loadPhoneSpans(): (text: string) => Span[] {
  const script = readFileSync(CHAT_JS, 'utf8');
  const start = script.indexOf('// --- tel: links');
  const end = script.indexOf('// --- end of tel: links ---');
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  const context = vm.createContext({});
  vm.runInContext(`${script.slice(start, end)}\nthis.phoneSpans = phoneSpans;`, context);
  return context.phoneSpans as (text: string) => Span[];
}

const phoneSpans = loadPhoneSpans();
/** The tel: targets of a text, in order. */
const links = (text: string) => phoneSpans(text).map((s) => `tel:${s[2]}`);
/** The visible text of each link, in order. */
const linked = (text: string) => phoneSpans(text).map((s) => text.slice(s[0], s[1]));

const resources = loadResources(LOCALES_DIR);

describe('web chat: tel: links', () => {
  it('every text that lists the emergency numbers offers 113, 114, 115 and 112 as links, in both languages', () => {
    const listing: string[] = [];
    for (const lang of ['vi', 'en']) {
      for (const [ns, texts] of Object.entries(resources[lang] ?? {})) {
        for (const [key, text] of Object.entries(texts)) {
          if (typeof text === 'string' && text.includes('115')) listing.push(`${lang}/${ns}:${key}`);
        }
      }
    }
    // The places that list the numbers (a test that finds none would prove nothing).
    expect(listing).toEqual(
      expect.arrayContaining(['vi/report:emergencyNumbers', 'en/report:emergencyNumbers', 'vi/menu:helpEmergency', 'vi/web:slowDown', 'vi/alerts:helpNoGroup']),
    );
    for (const where of listing) {
      const [lang, full] = where.split('/') as [string, string];
      const [ns, key] = full.split(':') as [string, string];
      const text = resources[lang]![ns]![key]!;
      expect(links(text), where).toEqual(['tel:113', 'tel:114', 'tel:115', 'tel:112']);
    }
  });

  it('112 is a link in a list, after a bullet and after "gọi"', () => {
    expect(links('Khẩn cấp: gọi 113 (công an), 114 (cứu hỏa, cứu nạn), 115 (cấp cứu), 112 (tìm kiếm cứu nạn).')).toEqual(['tel:113', 'tel:114', 'tel:115', 'tel:112']);
    expect(linked('🚨 Hãy gọi ngay:\n• 115 — Cấp cứu\n• 112 — Tìm kiếm cứu nạn\n')).toEqual(['115', '112']);
    expect(links('Người đuối nước: gọi 112 ngay.')).toEqual(['tel:112']);
    expect(links('Call 112 (search and rescue)')).toEqual(['tel:112']);
  });

  it('house, alley and other numbers are not calls', () => {
    expect(links('Nhà số 112, hẻm 113/5, phòng 114.')).toEqual([]);
    expect(links('Có 112 hộ trong khu phố.')).toEqual([]);
    expect(links('Mã phản ánh PA-1120')).toEqual([]);
  });

  it('ordinary phone numbers stay links as written', () => {
    expect(phoneSpans('Gọi tổ trưởng: 0912 345 678.')).toEqual([[15, 27, '0912345678']]);
    expect(links('Đường dây nóng 1900 1234')).toEqual(['tel:19001234']);
  });
});
