/**
 * A local fake of the Telegram Bot API, served over real HTTP.
 *
 * Why a real server instead of mocking `bot.api`: grammY's whole client stack
 * (URL building, JSON vs. multipart serialisation, error mapping into
 * `GrammyError`, long polling with abort signals, webhook adapters) then runs
 * exactly as in production. Point grammY at it with
 * `new Bot(fake.token, { client: { apiRoot: fake.apiRoot } })`.
 *
 * Why it validates: a fake that accepts everything lets tests pass while the
 * real Telegram would refuse the same request (a 65-byte callback_data, a
 * 5000-character message, an unescaped `.` in MarkdownV2...). Every request is
 * checked against the Bot API reference data (required fields, basic field
 * types) plus the limits Telegram documents. Each refusal is answered the way
 * Telegram answers it AND recorded in `refusals`, so a test can simply assert
 * `expect(fake.refusals).toEqual([])`.
 *
 * Deliberate deviations from Telegram (all needed to run tests offline):
 *  - webhooks may use plain `http://` on loopback hosts (tests cannot do TLS);
 *  - unknown message ids are edited/deleted leniently (tests often fabricate a
 *    callback query for a message the fake never saw);
 *  - returned objects are plausible, not complete.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Update, UserFromGetMe } from 'grammy/types';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/** A request body as the bot sent it (JSON object, or multipart fields). */
export type CallBody = Record<string, unknown>;

/** An uploaded multipart file part, as recorded in `call.body`. */
export interface UploadedFile {
  filename: string;
  size: number;
}

/** One accepted API call. */
export interface RecordedCall {
  method: string;
  body: CallBody;
  /** `Date.now()` when the call was answered. */
  at: number;
  /** The `result` the fake answered with. */
  result: unknown;
}

/** One request Telegram would have refused (validation error, 401, 404...). */
export interface Refusal {
  method: string;
  body: CallBody;
  error_code: number;
  description: string;
}

/**
 * Any non-ok answer, including ones that are not the bot's fault (rate limits,
 * injected failures, blocked chats, polling conflicts). `refusals` is the
 * subset with `kind: 'refusal'`.
 */
export interface Failure extends Refusal {
  kind: 'refusal' | 'rate-limit' | 'injected' | 'blocked' | 'conflict' | 'internal';
}

export interface WebhookResponse {
  update_id: number;
  /** HTTP status of the bot's webhook endpoint, 0 on network error. */
  status: number;
  body: string;
  error?: string;
}

export interface RateLimitOptions {
  /** Message-sending calls allowed per second across all chats (Telegram: ~30). */
  globalPerSecond?: number;
  /** Per private chat (positive chat id) per second (Telegram: ~1). */
  perChatPerSecond?: number;
  /**
   * Messages a private chat may get at once before its rate applies ("we may allow short bursts
   * that go over this limit, but eventually you'll begin receiving 429 errors", Telegram's FAQ):
   * at most `perChatBurst` in any `perChatBurst / perChatPerSecond` seconds. Default 1: no burst.
   */
  perChatBurst?: number;
  /** Per group/channel (negative or @username chat id) per minute (Telegram: 20). */
  perGroupPerMinute?: number;
  /** Fixed `retry_after` to answer; default: seconds until the window frees up. */
  retryAfterSeconds?: number;
}

export interface FakeTelegramOptions {
  token?: string;
  botUsername?: string;
  botFirstName?: string;
  botId?: number;
  rateLimit?: RateLimitOptions;
}

export interface InjectedError {
  error_code: number;
  description: string;
  retry_after?: number;
}

/** Common options of the update builders. */
export interface UserOptions {
  userId: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  /** Defaults to 'en'. */
  languageCode?: string;
  /** Defaults to `userId` (a private chat). Negative ids are groups. */
  chatId?: number;
  /** Title used when `chatId` is a group. */
  chatTitle?: string;
}

/** An answer the fake keeps back (`holdAnswer`): the call is handled, its HTTP answer waits. */
export interface HeldAnswer {
  /** Resolves once the call arrived and was handled (a message sent is in `calls`), its answer not yet given. */
  reached: Promise<void>;
  /** Gives the answer now (or as soon as the call arrives). */
  release(): void;
}

interface HoldState {
  method: string;
  match?: (body: CallBody) => boolean;
  reached: () => void;
  released: boolean;
  answer?: () => void;
}

/** Thrown from a `respond()` handler to answer with an error. */
export class TelegramApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
  ) {
    super(description);
  }
}

// ---------------------------------------------------------------------------
// Reference data (Bot API as JSON)
// ---------------------------------------------------------------------------

interface ReferenceField {
  name: string;
  types: string[];
  required: boolean;
}
interface ReferenceMethod {
  name: string;
  returns?: string[];
  fields?: ReferenceField[];
}
interface ApiReference {
  version: string;
  methods: Record<string, ReferenceMethod>;
  types: Record<string, { fields?: ReferenceField[] }>;
}

const referenceCache = new Map<string, ApiReference>();

/**
 * Loads the Bot API reference. `TELEGRAM_API_REFERENCE` (a file path) wins so
 * a checkout in another layout can still run the tests; otherwise the shared
 * copy next to the repository (/work/main/test/fakes -> /work/shared).
 */
export function loadApiReference(): ApiReference {
  const override = process.env.TELEGRAM_API_REFERENCE;
  const location = override ?? new URL('../fixtures/telegram/bot-api-reference.json', import.meta.url);
  const key = String(location);
  let ref = referenceCache.get(key);
  if (!ref) {
    try {
      ref = JSON.parse(readFileSync(location, 'utf8')) as ApiReference;
    } catch (err) {
      throw new Error(
        `fake-telegram-server: cannot read the Bot API reference at ${key} ` +
          `(set TELEGRAM_API_REFERENCE to its path): ${(err as Error).message}`,
      );
    }
    referenceCache.set(key, ref);
  }
  return ref;
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/**
 * A 1x1 grey baseline JPEG (hand-assembled: single-symbol Huffman tables, one
 * all-zero block). Served for downloads of files the fake did not receive, so
 * code that downloads and decodes a user's photo gets a real image.
 */
export const TINY_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z',
  'base64',
);

/** Update types Telegram does not deliver unless asked via allowed_updates. */
const NOT_DELIVERED_BY_DEFAULT = ['chat_member', 'message_reaction', 'message_reaction_count'];

/** Fallback if the reference lacks InlineKeyboardButton: fields that make a button do something. */
const DEFAULT_BUTTON_ACTIONS = [
  'url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query',
  'switch_inline_query_current_chat', 'switch_inline_query_chosen_chat', 'copy_text', 'callback_game', 'pay',
];

/** Tags Telegram's HTML parse mode understands. */
const HTML_TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre',
  'blockquote', 'tg-emoji', 'tg-time', 'br',
]);

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_CALLBACK_ANSWER = 200;
const MAX_CALLBACK_DATA_BYTES = 64;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the bot asked a message to show (raw text + parse mode + entities, and
 * the same for the caption). Telegram refuses an edit that changes nothing;
 * comparing the request, not the rendered text, errs on the lenient side.
 */
interface ContentSignature {
  text: string | null;
  caption: string | null;
}
const signatures = new WeakMap<object, ContentSignature>();

function signatureOf(raw: unknown, parseMode: unknown, entities: unknown): string | null {
  return raw === undefined || raw === null ? null : JSON.stringify([String(raw), parseMode ?? null, parseJsonish(entities) ?? null]);
}

/** Bodies of parts that hold files; bytes live here so `body` stays printable. */
const uploadedBytes = new WeakMap<object, Buffer>();

const isUploadedFile = (v: unknown): v is UploadedFile => isObject(v) && uploadedBytes.has(v);

/**
 * Multipart requests carry objects as JSON strings (grammY stringifies
 * `reply_markup`, `commands`, `media`...), JSON requests carry them as objects.
 * Validation and echoing go through this to handle both.
 */
function parseJsonish(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (!s.startsWith('{') && !s.startsWith('[')) return v;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return v;
  }
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

function badRequest(description: string): TelegramApiError {
  return new TelegramApiError(400, `Bad Request: ${description}`);
}

function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'amp') return '&';
    if (lower === 'quot') return '"';
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

/**
 * Returns the text the user will see for `text` in `parseMode`, refusing the
 * markup Telegram cannot parse. Telegram applies its length limits AFTER
 * entity parsing, so `<b>` tags do not count; and it rejects unknown HTML tags
 * and unescaped reserved characters in MarkdownV2 (a classic production bug
 * when user-provided names like "Nguyen A." end up in a message).
 */
function visibleText(text: string, parseMode: unknown): string {
  const mode = typeof parseMode === 'string' ? parseMode.toLowerCase() : '';
  if (mode === 'html') return visibleHtml(text);
  if (mode === 'markdownv2') return visibleMarkdown(text, true);
  if (mode === 'markdown') return visibleMarkdown(text, false);
  return text;
}

function visibleHtml(text: string): string {
  const open: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== '<') {
      out += ch;
      i++;
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)(\/?)>/.exec(text.slice(i));
    const offset = utf8Length(text.slice(0, i));
    if (!m) throw badRequest(`can't parse entities: Unexpected character "<" at byte offset ${offset}`);
    const [whole, closing, rawName, , selfClosing] = m;
    const name = rawName!.toLowerCase();
    if (!HTML_TAGS.has(name)) {
      throw badRequest(`can't parse entities: Unsupported ${closing ? 'end' : 'start'} tag "${name}" at byte offset ${offset}`);
    }
    if (closing) {
      if (open.pop() !== name) {
        throw badRequest(`can't parse entities: Unmatched end tag at byte offset ${offset}, expected "</${open.at(-1) ?? ''}>", found "</${name}>"`);
      }
    } else if (!selfClosing && name !== 'br') {
      open.push(name);
    }
    i += whole!.length;
  }
  if (open.length > 0) {
    throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  }
  return decodeHtmlEntities(out);
}

/**
 * Approximate Markdown parsing: strips formatting characters and link targets
 * and, for MarkdownV2, refuses reserved characters that are never formatting
 * (`# + - = { } . !`, `>` not starting a line, `(`/`)` outside a link) when
 * they are not escaped. Balanced-ness of `*`/`_` is not checked.
 */
function visibleMarkdown(text: string, v2: boolean): string {
  let out = '';
  let i = 0;
  const reserved = new Set(['#', '+', '-', '=', '{', '}', '.', '!']);
  const fail = (ch: string): never => {
    throw badRequest(`can't parse entities: Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length && (v2 || /[_*`[]/.test(text[i + 1]!))) {
      out += text[i + 1];
      i += 2;
    } else if (ch === '`') {
      // code span or pre block: content is literal
      const fence = text.startsWith('```', i) ? '```' : '`';
      const end = text.indexOf(fence, i + fence.length);
      if (end === -1) throw badRequest(`can't parse entities: Can't find end of the entity starting at byte offset ${utf8Length(text.slice(0, i))}`);
      let content = text.slice(i + fence.length, end);
      if (fence === '```') content = content.replace(/^[^\n]*\n/, ''); // language line
      out += v2 ? content.replace(/\\([`\\])/g, '$1') : content;
      i = end + fence.length;
    } else if (ch === ']' && text[i + 1] === '(') {
      // link target: skipped, may contain . - etc. unescaped
      const end = text.indexOf(')', i + 2);
      if (end === -1) throw badRequest(`can't parse entities: Can't find end of a URL at byte offset ${utf8Length(text.slice(0, i))}`);
      i = end + 1;
    } else if (v2 && ch === '!' && text[i + 1] === '[') {
      i++; // custom emoji ![👍](tg://emoji?id=...)
    } else if ('*_~|['.includes(ch) || (ch === ']' && v2)) {
      i++; // formatting character
    } else if (v2 && ch === '>') {
      if (i === 0 || text[i - 1] === '\n') i++; // blockquote marker
      else fail(ch);
    } else if (v2 && (reserved.has(ch) || ch === '(' || ch === ')')) {
      fail(ch);
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Multipart parsing (just enough for grammY's uploads)
// ---------------------------------------------------------------------------

interface ParsedMultipart {
  fields: Record<string, string>;
  files: Record<string, { filename: string; bytes: Buffer }>;
}

/**
 * grammY writes parts as `content-disposition:form-data;name="x"` (no spaces,
 * unquoted `filename=`), so the header parsing here is deliberately tolerant.
 */
function parseMultipart(buf: Buffer, boundary: string): ParsedMultipart {
  const result: ParsedMultipart = { fields: {}, files: {} };
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = buf.indexOf(delimiter);
  while (pos !== -1) {
    let start = pos + delimiter.length;
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break; // closing "--boundary--"
    if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    const next = buf.indexOf(delimiter, start);
    if (next === -1) break;
    let end = next;
    if (buf[end - 2] === 0x0d && buf[end - 1] === 0x0a) end -= 2;
    const part = buf.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const content = part.subarray(headerEnd + 4);
      const name = /(?:^|[;\s:])name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename\*?=(?:"([^"]*)"|([^;\r\n]*))/i.exec(headers);
      if (name !== undefined) {
        if (filename) result.files[name] = { filename: (filename[1] ?? filename[2] ?? '').trim(), bytes: Buffer.from(content) };
        else result.fields[name] = content.toString('utf8');
      }
    }
    pos = next;
  }
  return result;
}

/** Folds files into fields: `photo: "attach://abc"` becomes `photo: {filename, size}`. */
function multipartToBody(parsed: ParsedMultipart): CallBody {
  const body: CallBody = { ...parsed.fields };
  const files = { ...parsed.files };
  const toUpload = (f: { filename: string; bytes: Buffer }): UploadedFile => {
    const upload = { filename: f.filename, size: f.bytes.length };
    uploadedBytes.set(upload, f.bytes);
    return upload;
  };
  for (const [key, value] of Object.entries(body)) {
    const id = typeof value === 'string' && value.startsWith('attach://') ? value.slice(9) : undefined;
    const file = id !== undefined ? files[id] : undefined;
    if (id !== undefined && file) {
      body[key] = toUpload(file);
      delete files[id];
    }
  }
  // Files referenced from inside JSON (sendMediaGroup) stay under their part name.
  for (const [id, file] of Object.entries(files)) body[id] = toUpload(file);
  return body;
}

// ---------------------------------------------------------------------------
// The fake server
// ---------------------------------------------------------------------------

interface Poller {
  wake: (reason: 'update' | 'timeout' | 'closed' | 'conflict' | 'gone') => void;
}

interface CallWaiter {
  predicate: (call: RecordedCall) => boolean;
  since: number;
  resolve: (call: RecordedCall) => void;
}

interface WebhookState {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  max_connections: number;
  last_error_date?: number;
  last_error_message?: string;
}

type MethodHandler = (body: CallBody, fake: FakeTelegram) => unknown;

export class FakeTelegram {
  readonly token: string;
  readonly botInfo: UserFromGetMe;
  /** e.g. `http://127.0.0.1:41234`; pass as `client.apiRoot`. */
  apiRoot = '';

  /** Every accepted call, in order of arrival. */
  readonly calls: RecordedCall[] = [];
  /** Requests Telegram would have refused. Tests should usually end with `expect(fake.refusals).toEqual([])`. */
  readonly refusals: Refusal[] = [];
  /** Every non-ok answer, whatever the reason. */
  readonly failures: Failure[] = [];
  /** What the bot's webhook endpoint answered to each pushed update. */
  readonly webhookResponses: WebhookResponse[] = [];
  /** Updates discarded because the bot's allowed_updates excluded their type. */
  readonly droppedUpdates: Update[] = [];
  /** Number of 429 answers given by the rate limiter. */
  tooManyRequests = 0;
  /** Number of getUpdates requests terminated because another one arrived. */
  conflicts = 0;

  private readonly reference: ApiReference;
  private readonly methodsByLowerName = new Map<string, string>();
  private readonly buttonActions: string[];
  private readonly server: http.Server;
  private readonly rateLimit?: RateLimitOptions;

  private queue: Update[] = [];
  private nextUpdateId = 100_000_001;
  private allowedUpdates: string[] | undefined;
  private pollers = new Set<Poller>();
  private waiters = new Set<CallWaiter>();
  private webhookState: WebhookState | undefined;
  private webhookChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly messageCounters = new Map<string, number>();
  private readonly messages = new Map<string, Map<number, Json>>();
  private readonly users = new Map<number, Json>();
  private readonly files = new Map<string, Buffer>();
  private readonly filePaths = new Map<string, string>();
  private readonly commands = new Map<string, unknown>();
  private readonly menuButtons = new Map<string, unknown>();
  private readonly injected = new Map<string, InjectedError[]>();
  private readonly blocked = new Set<string>();
  private readonly holds: HoldState[] = [];
  private readonly heldAnswers = new Map<http.ServerResponse, HoldState>();
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly sendTimes = { global: [] as number[], chats: new Map<string, number[]>() };
  private fileSeq = 0;
  private callbackSeq = 0;

  constructor(opts: FakeTelegramOptions = {}) {
    this.token = opts.token ?? '123456:TEST-token';
    const idFromToken = Number(this.token.split(':')[0]);
    this.botInfo = {
      id: opts.botId ?? (Number.isSafeInteger(idFromToken) && idFromToken > 0 ? idFromToken : 123456),
      is_bot: true,
      first_name: opts.botFirstName ?? 'Test Bot',
      username: opts.botUsername ?? 'test_community_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    } as UserFromGetMe;
    this.rateLimit = opts.rateLimit;
    this.reference = loadApiReference();
    for (const name of Object.keys(this.reference.methods)) this.methodsByLowerName.set(name.toLowerCase(), name);
    const buttonFields = this.reference.types.InlineKeyboardButton?.fields?.map((f) => f.name);
    this.buttonActions = buttonFields
      ? buttonFields.filter((f) => !['text', 'icon_custom_emoji_id', 'style'].includes(f))
      : DEFAULT_BUTTON_ACTIONS;
    this.server = http.createServer((req, res) => {
      this.handleHttp(req, res).catch((err: unknown) => {
        console.error('fake-telegram-server: internal error', err);
        this.send(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(err)}` });
      });
    });
  }

  /** @internal use startFakeTelegram() */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.apiRoot = `http://127.0.0.1:${port}`;
  }

  // -------------------------------------------------------------------------
  // Inspection helpers
  // -------------------------------------------------------------------------

  /** Accepted calls whose method starts with `send` or is `editMessageText`. */
  get sent(): RecordedCall[] {
    return this.calls.filter((c) => c.method.startsWith('send') || c.method === 'editMessageText');
  }

  /**
   * Texts/captions the user in `chatId` saw appear, in order (edits included,
   * since an edited text is what the user reads).
   */
  messagesTo(chatId: number | string): string[] {
    return this.sent
      .filter((c) => String(c.body.chat_id) === String(chatId))
      .map((c) => c.body.text ?? c.body.caption)
      .filter((t): t is string => typeof t === 'string');
  }

  /** Updates queued for getUpdates and not yet confirmed. */
  get pendingUpdates(): readonly Update[] {
    return this.queue;
  }

  /** Current webhook, if set. */
  get webhook(): Readonly<WebhookState> | undefined {
    return this.webhookState;
  }

  /** Throws listing the refusals, for a readable failure in `afterEach`. */
  assertNoRefusals(): void {
    if (this.refusals.length > 0) {
      throw new Error(`Telegram would have refused:\n${this.refusals.map((r) => `  ${r.method}: ${r.description}`).join('\n')}`);
    }
  }

  /**
   * Resolves with the first accepted call matching `predicate`. Past calls
   * are checked first (from index `opts.since`, default 0), so there is no
   * race between triggering an action and starting to wait for its effect.
   */
  waitFor(
    predicate: (call: RecordedCall) => boolean,
    timeoutMs = 5000,
    opts: { since?: number } = {},
  ): Promise<RecordedCall> {
    const since = opts.since ?? 0;
    const past = this.calls.slice(since).find(predicate);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const waiter: CallWaiter = {
        predicate,
        since,
        resolve: (call) => {
          clearTimeout(timer);
          resolve(call);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`fake Telegram: no matching call within ${timeoutMs} ms.\n${this.describeRecent()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Waits for a sent/edited message to `chatId` whose text or caption matches. */
  waitForText(chatId: number | string, match: string | RegExp, timeoutMs = 5000, opts: { since?: number } = {}): Promise<RecordedCall> {
    return this.waitFor(
      (c) => {
        if (!(c.method.startsWith('send') || c.method === 'editMessageText')) return false;
        if (String(c.body.chat_id) !== String(chatId)) return false;
        const text = c.body.text ?? c.body.caption;
        if (typeof text !== 'string') return false;
        return typeof match === 'string' ? text.includes(match) : match.test(text);
      },
      timeoutMs,
      opts,
    );
  }

  /** Human-readable summary of recent traffic, used in timeout errors. */
  describeRecent(count = 10): string {
    const recent = this.calls.filter((c) => c.method !== 'getUpdates').slice(-count);
    const lines = recent.map((c) => {
      const text = c.body.text ?? c.body.caption;
      const chat = c.body.chat_id !== undefined ? ` chat=${String(c.body.chat_id)}` : '';
      return `  ${c.method}${chat}${typeof text === 'string' ? ` ${JSON.stringify(text.slice(0, 80))}` : ''}`;
    });
    const failures = this.failures.slice(-5).map((f) => `  ${f.method}: ${f.error_code} ${f.description}`);
    return [
      `Last ${recent.length} calls (getUpdates omitted):`,
      ...(lines.length ? lines : ['  (none)']),
      ...(failures.length ? ['Last failures:', ...failures] : []),
    ].join('\n');
  }

  // -------------------------------------------------------------------------
  // Test controls
  // -------------------------------------------------------------------------

  /** The next call of `method` fails with this error (after nothing else is checked). */
  failNext(method: string, error: InjectedError): void {
    const list = this.injected.get(method) ?? [];
    list.push(error);
    this.injected.set(method, list);
  }

  /**
   * The next call of `method` (whose body matches, if `match` is given) is handled as usual (a
   * message reaches its chat, an injected failure applies), but its HTTP answer is kept back
   * until `release()`: the bot has not heard yet how the call went. Other calls are not held.
   */
  holdAnswer(method: string, match?: (body: CallBody) => boolean): HeldAnswer {
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const hold: HoldState = { method, match, reached, released: false };
    this.holds.push(hold);
    return {
      reached: arrived,
      release: () => {
        hold.released = true;
        hold.answer?.();
      },
    };
  }

  /** Sends/edits to this chat answer 403 like a user who blocked the bot. */
  blockChat(chatId: number | string): void {
    this.blocked.add(String(chatId));
  }

  unblockChat(chatId: number | string): void {
    this.blocked.delete(String(chatId));
  }

  /**
   * Overrides the result of `method` (after validation). Throw a
   * `TelegramApiError` from the handler to answer with an error, e.g. to make
   * `getChatMember` report an administrator.
   */
  respond(method: string, handler: MethodHandler): void {
    this.handlers.set(method, handler);
  }

  // -------------------------------------------------------------------------
  // Update injection
  // -------------------------------------------------------------------------

  /**
   * Delivers an update like Telegram would: into the getUpdates queue (waking
   * a held long poll), or, while a webhook is set, as a POST to it. Resolves
   * once queued or once the webhook answered (awaiting is optional in polling
   * mode). `update_id` is assigned if missing.
   */
  async pushUpdate(update: Omit<Update, 'update_id'> & { update_id?: number }): Promise<Update> {
    const full = this.assignUpdateId(update);
    this.rememberMessages(full);
    if (this.webhookState) {
      const delivery = this.webhookChain.then(() => this.deliverToWebhook(full));
      this.webhookChain = delivery;
      await delivery;
    } else {
      this.queue.push(full);
      for (const poller of this.pollers) poller.wake('update');
    }
    return full;
  }

  // -------------------------------------------------------------------------
  // Update builders
  // -------------------------------------------------------------------------

  userMessage(opts: UserOptions & { text: string }): Update {
    return this.buildMessageUpdate(opts, { text: opts.text });
  }

  /**
   * A command message with its `bot_command` entity. Pass `command` (with or
   * without `/`, optionally `args`), or a full `text` like `/start abc`.
   */
  userCommand(opts: UserOptions & { command?: string; args?: string; text?: string }): Update {
    let text = opts.text;
    if (text === undefined) {
      if (!opts.command) throw new Error('userCommand needs `command` or `text`');
      const command = opts.command.replace(/^\//, '');
      text = `/${command}${opts.args ? ` ${opts.args}` : ''}`;
    }
    if (!text.startsWith('/')) text = `/${text}`;
    const length = text.split(/\s/)[0]!.length;
    return this.buildMessageUpdate(opts, { text, entities: [{ type: 'bot_command', offset: 0, length }] });
  }

  /**
   * A button press. The message defaults to the bot's latest message in the
   * chat (what a user would tap), with its real reply_markup.
   */
  callbackQuery(opts: UserOptions & { data: string; messageId?: number }): Update {
    const from = this.userFor(opts);
    const chatId = opts.chatId ?? opts.userId;
    const chat = this.chatFor(chatId, opts.chatTitle);
    const stored =
      opts.messageId !== undefined ? this.findMessage(chatId, opts.messageId) : this.lastBotMessage(chatId);
    const message = stored ?? {
      message_id: opts.messageId ?? this.nextMessageId(chatId),
      from: this.botUser(),
      chat,
      date: nowSeconds(),
      text: '',
    };
    this.callbackSeq++;
    return this.assignUpdateId({
      callback_query: {
        id: String(4_000_000_000_000_000 + this.callbackSeq * 7919),
        from,
        message,
        chat_instance: String(-1_000_000_000 - Math.abs(Number(chatId))),
        data: opts.data,
      },
    } as unknown as Update);
  }

  /** A photo message; the largest size (last) has `fileId`. */
  userPhoto(opts: UserOptions & { fileId: string; caption?: string }): Update {
    const size = (suffix: string, width: number, height: number, fileSize: number): Json => ({
      file_id: `${opts.fileId}${suffix}`,
      file_unique_id: uniqueId(`${opts.fileId}${suffix}`),
      width,
      height,
      file_size: fileSize,
    });
    return this.buildMessageUpdate(opts, {
      photo: [size('-s', 90, 68, 1_234), size('-m', 320, 240, 14_321), size('', 1280, 960, 98_765)],
      ...(opts.caption !== undefined ? { caption: opts.caption } : {}),
    });
  }

  userLocation(opts: UserOptions & { latitude: number; longitude: number }): Update {
    return this.buildMessageUpdate(opts, { location: { latitude: opts.latitude, longitude: opts.longitude } });
  }

  userSticker(opts: UserOptions & { fileId?: string; emoji?: string }): Update {
    const fileId = opts.fileId ?? `sticker-${opts.userId}`;
    return this.buildMessageUpdate(opts, {
      sticker: {
        file_id: fileId,
        file_unique_id: uniqueId(fileId),
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
        emoji: opts.emoji ?? '👍',
        set_name: 'FakeStickers',
        file_size: 12_345,
      },
    });
  }

  /** A shared contact; `user_id` is the sender's, as with a request_contact button. */
  userContact(opts: UserOptions & { phone: string; contactFirstName?: string }): Update {
    const from = this.userFor(opts);
    return this.buildMessageUpdate(opts, {
      contact: {
        phone_number: opts.phone,
        first_name: opts.contactFirstName ?? from.first_name,
        user_id: opts.userId,
      },
    });
  }

  // -------------------------------------------------------------------------
  // Shutdown
  // -------------------------------------------------------------------------

  /** Answers held long polls with [] and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const poller of this.pollers) poller.wake('closed');
    for (const hold of [...this.heldAnswers.values()]) hold.answer?.();
    await new Promise((resolve) => setImmediate(resolve)); // let held polls flush their answer
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // -------------------------------------------------------------------------
  // HTTP layer
  // -------------------------------------------------------------------------

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/file/')) {
      this.serveFile(url.pathname, res);
      return;
    }
    const match = /^\/bot([^/]*)\/([^/]*)$/.exec(url.pathname);
    const raw = await readRequest(req);
    if (!match) {
      this.send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const requested = decodeURIComponent(match[2]!);
    let body: CallBody;
    let formEncoded: boolean;
    try {
      const parsed = parseBody(req, raw);
      body = { ...Object.fromEntries(url.searchParams), ...parsed.body };
      formEncoded = parsed.formEncoded || url.searchParams.size > 0;
    } catch (err) {
      this.fail(res, 'refusal', requested, {}, badRequest((err as Error).message));
      return;
    }
    if (decodeURIComponent(match[1]!) !== this.token) {
      this.fail(res, 'refusal', requested, body, new TelegramApiError(401, 'Unauthorized'));
      return;
    }
    // Telegram resolves method names case-insensitively.
    const method = this.methodsByLowerName.get(requested.toLowerCase());
    if (!method) {
      this.fail(res, 'refusal', requested, body, new TelegramApiError(404, 'Not Found: method not found'));
      return;
    }
    if (formEncoded) body = this.normalizeFormBody(method, body);
    await this.dispatch(method, body, req, res);
  }

  /**
   * Form fields are all strings. Convert them by their reference types so a
   * recorded multipart `body` looks like a JSON one (`chat_id: 42`,
   * `reply_markup: {...}`) and tests need not care how grammY encoded it.
   */
  private normalizeFormBody(method: string, body: CallBody): CallBody {
    const out: CallBody = { ...body };
    for (const field of this.reference.methods[method]?.fields ?? []) {
      const value = out[field.name];
      if (typeof value !== 'string') continue;
      const types = field.types;
      if (types.includes('Integer') && toInt(value) !== undefined) out[field.name] = Number(value);
      else if (types.includes('Float') && value.trim() !== '' && Number.isFinite(Number(value))) out[field.name] = Number(value);
      else if (types.includes('Boolean') && (value === 'true' || value === 'false')) out[field.name] = value === 'true';
      else if (!types.includes('String')) out[field.name] = parseJsonish(value);
    }
    return out;
  }

  private async dispatch(method: string, body: CallBody, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const held = this.holds.findIndex((h) => h.method === method && (!h.match || h.match(body)));
    if (held >= 0) this.heldAnswers.set(res, this.holds.splice(held, 1)[0]!);
    const injected = this.injected.get(method)?.shift();
    if (injected) {
      const params = injected.retry_after !== undefined ? { retry_after: injected.retry_after } : undefined;
      this.fail(res, 'injected', method, body, new TelegramApiError(injected.error_code, injected.description, params));
      return;
    }
    try {
      this.validate(method, body);
    } catch (err) {
      if (err instanceof TelegramApiError) return this.fail(res, 'refusal', method, body, err);
      throw err;
    }
    const chatKey = body.chat_id !== undefined ? String(body.chat_id) : undefined;
    if (chatKey !== undefined && this.blocked.has(chatKey) && /^(send|copy|forward|edit)/.test(method)) {
      const description = Number(chatKey) < 0 ? 'Forbidden: bot was kicked from the group chat' : 'Forbidden: bot was blocked by the user';
      this.fail(res, 'blocked', method, body, new TelegramApiError(403, description));
      return;
    }
    const retryAfter = this.checkRateLimit(method, chatKey);
    if (retryAfter !== undefined) {
      this.tooManyRequests++;
      const err = new TelegramApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
      this.fail(res, 'rate-limit', method, body, err);
      return;
    }
    if (method === 'getUpdates') {
      await this.getUpdates(body, res);
      return;
    }
    let result: unknown;
    try {
      const handler = this.handlers.get(method);
      result = handler ? handler(body, this) : this.execute(method, body);
    } catch (err) {
      if (err instanceof TelegramApiError) {
        this.fail(res, err.error_code === 400 ? 'refusal' : 'injected', method, body, err);
        return;
      }
      throw err;
    }
    this.accept(res, method, body, result);
  }

  private accept(res: http.ServerResponse, method: string, body: CallBody, result: unknown): void {
    const call: RecordedCall = { method, body, at: Date.now(), result };
    this.calls.push(call);
    this.send(res, 200, { ok: true, result });
    const index = this.calls.length - 1;
    for (const waiter of this.waiters) {
      if (index >= waiter.since && waiter.predicate(call)) {
        this.waiters.delete(waiter);
        waiter.resolve(call);
      }
    }
  }

  private fail(res: http.ServerResponse, kind: Failure['kind'], method: string, body: CallBody, err: TelegramApiError): void {
    const failure: Failure = { kind, method, body, error_code: err.error_code, description: err.description };
    this.failures.push(failure);
    if (kind === 'refusal') this.refusals.push({ method, body, error_code: err.error_code, description: err.description });
    this.send(res, err.error_code, {
      ok: false,
      error_code: err.error_code,
      description: err.description,
      ...(err.parameters ? { parameters: err.parameters } : {}),
    });
  }

  private send(res: http.ServerResponse, status: number, payload: unknown): void {
    const hold = this.heldAnswers.get(res);
    if (hold && !hold.answer) {
      hold.answer = () => {
        this.heldAnswers.delete(res);
        this.send(res, status, payload);
      };
      if (hold.released) hold.answer();
      hold.reached();
      return;
    }
    if (res.headersSent || res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private serveFile(pathname: string, res: http.ServerResponse): void {
    const prefix = `/file/bot${this.token}/`;
    const filePath = pathname.startsWith(prefix) ? decodeURIComponent(pathname.slice(prefix.length)) : undefined;
    const fileId = filePath !== undefined ? this.filePaths.get(filePath) : undefined;
    if (fileId === undefined) {
      this.send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const bytes = this.files.get(fileId) ?? TINY_JPEG;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  }

  // -------------------------------------------------------------------------
  // Validation
  // -------------------------------------------------------------------------

  private validate(method: string, body: CallBody): void {
    const spec = this.reference.methods[method]!;
    for (const field of spec.fields ?? []) {
      const value = body[field.name];
      if (value === undefined || value === null) {
        if (field.required) throw badRequest(`${field.name} is required`);
        continue;
      }
      if (!field.types.some((t) => matchesType(t, value))) {
        throw badRequest(`field "${field.name}" must be of type ${field.types.join(' or ')}`);
      }
    }
    for (const key of ['chat_id', 'from_chat_id']) {
      if (body[key] !== undefined && !isValidChatId(body[key])) throw badRequest('chat not found');
    }

    if (method === 'sendMessage' || method === 'editMessageText') {
      if (typeof body.text === 'string' || typeof body.text === 'number') {
        const text = visibleText(String(body.text), body.parse_mode);
        if (text.trim() === '') throw badRequest('message text is empty');
        if (text.length > MAX_TEXT) throw badRequest('message is too long');
      }
    }
    if (body.caption !== undefined) this.checkCaption(body.caption, body.parse_mode);
    const media = parseJsonish(body.media);
    for (const item of Array.isArray(media) ? media : isObject(media) ? [media] : []) {
      if (isObject(item) && item.caption !== undefined) this.checkCaption(item.caption, item.parse_mode);
    }
    if (body.reply_markup !== undefined) this.checkReplyMarkup(body.reply_markup);
    if (method.startsWith('editMessage') || method === 'stopMessageLiveLocation') {
      if (body.inline_message_id === undefined && (body.chat_id === undefined || body.message_id === undefined)) {
        throw badRequest('message identifier is not specified');
      }
    }
    if (method === 'answerCallbackQuery' && typeof body.text === 'string' && body.text.length > MAX_CALLBACK_ANSWER) {
      throw badRequest('MESSAGE_TOO_LONG');
    }
    if (method === 'setMyCommands') checkCommands(body.commands);
    if (method === 'setWebhook') checkWebhook(body);
  }

  private checkCaption(caption: unknown, parseMode: unknown): void {
    const text = visibleText(String(caption), parseMode);
    if (text.length > MAX_CAPTION) throw badRequest('message caption is too long');
  }

  private checkReplyMarkup(raw: unknown): void {
    const markup = parseJsonish(raw);
    if (!isObject(markup)) throw badRequest("can't parse reply keyboard markup JSON object");
    if ('inline_keyboard' in markup) {
      const rows = markup.inline_keyboard;
      if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) {
        throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
      }
      for (const button of (rows as unknown[][]).flat()) {
        if (!isObject(button)) throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
        if (typeof button.text !== 'string') {
          throw badRequest(`can't parse inline keyboard button: Field "text" must be of type String`);
        }
        if (button.text.trim() === '') throw badRequest('BUTTON_TEXT_EMPTY');
        const actions = this.buttonActions.filter((f) => button[f] !== undefined && button[f] !== null);
        if (actions.length === 0) {
          throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        }
        if (button.callback_data !== undefined) {
          const data = button.callback_data;
          if (typeof data !== 'string' || data.length === 0 || utf8Length(data) > MAX_CALLBACK_DATA_BYTES) {
            throw badRequest('BUTTON_DATA_INVALID');
          }
        }
        if (button.url !== undefined && (typeof button.url !== 'string' || button.url.trim() === '')) {
          throw badRequest('BUTTON_URL_INVALID');
        }
      }
    } else if ('keyboard' in markup) {
      const rows = markup.keyboard;
      if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) {
        throw badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays');
      }
      for (const button of (rows as unknown[][]).flat()) {
        const text = typeof button === 'string' ? button : isObject(button) ? button.text : undefined;
        if (typeof text !== 'string' || text === '') {
          throw badRequest(`can't parse keyboard button: Field "text" must be of type String`);
        }
      }
    }
  }

  // -------------------------------------------------------------------------
  // Rate limiting
  // -------------------------------------------------------------------------

  /**
   * Sliding windows over accepted message-producing calls. Returns the
   * retry_after to answer with, or undefined if the call may proceed.
   */
  private checkRateLimit(method: string, chatKey: string | undefined): number | undefined {
    const limits = this.rateLimit;
    if (!limits || !producesMessage(method)) return undefined;
    const now = Date.now();
    const isGroup = chatKey !== undefined && (chatKey.startsWith('@') || Number(chatKey) < 0);
    const chatTimes = chatKey !== undefined ? this.sendTimes.chats.get(chatKey) ?? [] : [];
    // A private chat's burst B at rate r: at most max(r, B) messages in any max(r, B) / r seconds.
    const perChat = limits.perChatPerSecond === undefined ? undefined : Math.max(limits.perChatPerSecond, Math.floor(limits.perChatBurst ?? 1));
    const checks: Array<{ times: number[]; limit: number | undefined; windowMs: number }> = [
      { times: this.sendTimes.global, limit: limits.globalPerSecond, windowMs: 1000 },
      {
        times: chatTimes,
        limit: chatKey === undefined ? undefined : isGroup ? limits.perGroupPerMinute : perChat,
        windowMs: isGroup ? 60_000 : perChat === undefined ? 1000 : (perChat * 1000) / limits.perChatPerSecond!,
      },
    ];
    for (const check of checks) {
      while (check.times.length > 0 && check.times[0]! <= now - check.windowMs) check.times.shift();
    }
    for (const { times, limit, windowMs } of checks) {
      if (limit !== undefined && times.length >= limit) {
        return limits.retryAfterSeconds ?? Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000));
      }
    }
    this.sendTimes.global.push(now);
    if (chatKey !== undefined) {
      chatTimes.push(now);
      this.sendTimes.chats.set(chatKey, chatTimes);
    }
    return undefined;
  }

  // -------------------------------------------------------------------------
  // Method behaviour
  // -------------------------------------------------------------------------

  private execute(method: string, body: CallBody): unknown {
    switch (method) {
      case 'getMe':
        return this.botInfo;
      case 'setWebhook':
        return this.setWebhook(body);
      case 'deleteWebhook':
        this.webhookState = undefined;
        if (isTrue(body.drop_pending_updates)) this.queue = [];
        return true;
      case 'getWebhookInfo':
        return this.webhookInfo();
      case 'getFile':
        return this.getFile(String(body.file_id));
      case 'sendMediaGroup':
        return this.sendMediaGroup(body);
      case 'copyMessage':
        return { message_id: this.nextMessageId(body.chat_id) };
      case 'copyMessages':
      case 'forwardMessages': {
        const ids = parseJsonish(body.message_ids);
        return (Array.isArray(ids) ? ids : []).map(() => {
          const message_id = this.nextMessageId(body.chat_id);
          if (method === 'forwardMessages') this.storeMessage({ message_id, chat: this.chatFor(body.chat_id), date: nowSeconds() });
          return { message_id };
        });
      }
      case 'deleteMessage':
        this.messages.get(String(body.chat_id))?.delete(Number(body.message_id));
        return true;
      case 'deleteMessages': {
        const ids = parseJsonish(body.message_ids);
        for (const id of Array.isArray(ids) ? ids : []) this.messages.get(String(body.chat_id))?.delete(Number(id));
        return true;
      }
      case 'setMyCommands':
        this.commands.set(commandsKey(body), parseJsonish(body.commands));
        return true;
      case 'deleteMyCommands':
        this.commands.delete(commandsKey(body));
        return true;
      case 'getMyCommands':
        return this.commands.get(commandsKey(body)) ?? [];
      case 'setChatMenuButton':
        this.menuButtons.set(String(body.chat_id ?? ''), parseJsonish(body.menu_button) ?? { type: 'default' });
        return true;
      case 'getChatMenuButton':
        return this.menuButtons.get(String(body.chat_id ?? '')) ?? this.menuButtons.get('') ?? { type: 'default' };
      case 'getChat':
        return { ...this.chatFor(body.chat_id), accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false } };
      case 'getChatMember':
        return { status: 'member', user: this.userFor({ userId: Number(body.user_id) }) };
      case 'getChatAdministrators':
        return [];
      case 'getChatMemberCount':
        return 2;
      case 'getUserProfilePhotos':
        return { total_count: 0, photos: [] };
      case 'getMyName':
        return { name: this.botInfo.first_name };
      case 'getMyDescription':
        return { description: '' };
      case 'getMyShortDescription':
        return { short_description: '' };
      case 'exportChatInviteLink':
        return `https://t.me/+fake${Math.abs(Number(body.chat_id) || 0)}`;
      case 'createChatInviteLink':
      case 'editChatInviteLink':
      case 'revokeChatInviteLink':
        return {
          invite_link: typeof body.invite_link === 'string' ? body.invite_link : `https://t.me/+fake${this.fileSeq++}`,
          creator: this.botUser(),
          creates_join_request: isTrue(body.creates_join_request),
          is_primary: false,
          is_revoked: method === 'revokeChatInviteLink',
        };
    }
    const returns = this.reference.methods[method]?.returns ?? [];
    if (method.startsWith('edit') || method === 'stopMessageLiveLocation') {
      return body.inline_message_id !== undefined ? true : this.editMessage(method, body);
    }
    if (returns[0] === 'Message') return this.storeMessage(this.buildSentMessage(method, body));
    if (returns[0] === 'MessageId') return { message_id: this.nextMessageId(body.chat_id) };
    return true; // everything else: "accepted", as the brief of this fake says
  }

  private setWebhook(body: CallBody): true {
    const url = String(body.url ?? '');
    if (url === '') {
      this.webhookState = undefined;
    } else {
      const allowed = parseJsonish(body.allowed_updates);
      this.webhookState = {
        url,
        secret_token: typeof body.secret_token === 'string' ? body.secret_token : undefined,
        allowed_updates: Array.isArray(allowed) ? (allowed as string[]) : undefined,
        max_connections: toInt(body.max_connections) ?? 40,
      };
      if (Array.isArray(allowed)) this.allowedUpdates = allowed as string[];
    }
    if (isTrue(body.drop_pending_updates)) this.queue = [];
    // Telegram only delivers to a webhook what is not yet in the queue; keep it simple and flush.
    if (this.webhookState) {
      const pending = this.queue;
      this.queue = [];
      for (const update of pending) {
        this.webhookChain = this.webhookChain.then(() => this.deliverToWebhook(update));
      }
    }
    return true;
  }

  private webhookInfo(): Json {
    const hook = this.webhookState;
    return {
      url: hook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
      ...(hook ? { max_connections: hook.max_connections } : {}),
      ...(hook?.allowed_updates ? { allowed_updates: hook.allowed_updates } : {}),
      ...(hook?.last_error_date ? { last_error_date: hook.last_error_date, last_error_message: hook.last_error_message } : {}),
    };
  }

  private getFile(fileId: string): Json {
    const filePath = `photos/${fileId}.jpg`;
    this.filePaths.set(filePath, fileId);
    const bytes = this.files.get(fileId) ?? TINY_JPEG;
    return { file_id: fileId, file_unique_id: uniqueId(fileId), file_size: bytes.length, file_path: filePath };
  }

  /** Builds the Message Telegram returns for a send*, echoing what the user will see. */
  private buildSentMessage(method: string, body: CallBody): Json {
    const message: Json = {
      message_id: this.nextMessageId(body.chat_id),
      from: this.botUser(),
      chat: this.chatFor(body.chat_id),
      date: nowSeconds(),
    };
    if (body.message_thread_id !== undefined) message.message_thread_id = toInt(body.message_thread_id);
    const reply = parseJsonish(body.reply_parameters);
    const replyTo = isObject(reply) ? this.findMessage(reply.chat_id ?? body.chat_id, Number(reply.message_id)) : undefined;
    if (replyTo) message.reply_to_message = replyTo;

    switch (method) {
      case 'sendMessage':
        // Telegram returns the text after parsing parse_mode, i.e. without tags.
        message.text = visibleText(String(body.text), body.parse_mode);
        break;
      case 'sendPhoto': {
        const file = this.fileFor(body.photo, 'photo');
        message.photo = [
          { ...file, file_id: `${String(file.file_id)}-s`, file_unique_id: uniqueId(`${String(file.file_id)}-s`), width: 90, height: 68 },
          { ...file, width: 1280, height: 960 },
        ];
        break;
      }
      case 'sendDocument':
        message.document = { ...this.fileFor(body.document, 'document'), file_name: fileName(body.document, 'document.dat') };
        break;
      case 'sendAudio':
        message.audio = { ...this.fileFor(body.audio, 'audio'), duration: toInt(body.duration) ?? 1 };
        break;
      case 'sendVideo':
        message.video = { ...this.fileFor(body.video, 'video'), width: 640, height: 360, duration: toInt(body.duration) ?? 1 };
        break;
      case 'sendAnimation':
        message.animation = { ...this.fileFor(body.animation, 'animation'), width: 320, height: 240, duration: 1 };
        break;
      case 'sendVoice':
        message.voice = { ...this.fileFor(body.voice, 'voice'), duration: toInt(body.duration) ?? 1 };
        break;
      case 'sendVideoNote':
        message.video_note = { ...this.fileFor(body.video_note, 'video_note'), length: 240, duration: 1 };
        break;
      case 'sendSticker':
        message.sticker = { ...this.fileFor(body.sticker, 'sticker'), type: 'regular', width: 512, height: 512, is_animated: false, is_video: false };
        break;
      case 'sendLocation':
        message.location = { latitude: Number(body.latitude), longitude: Number(body.longitude) };
        break;
      case 'sendVenue':
        message.venue = {
          location: { latitude: Number(body.latitude), longitude: Number(body.longitude) },
          title: body.title,
          address: body.address,
        };
        break;
      case 'sendContact':
        message.contact = { phone_number: body.phone_number, first_name: body.first_name };
        break;
      case 'sendDice':
        message.dice = { emoji: body.emoji ?? '🎲', value: 1 + (this.fileSeq++ % 6) };
        break;
      case 'sendPoll': {
        const options = parseJsonish(body.options);
        message.poll = {
          id: String(5_000_000 + this.fileSeq++),
          question: body.question,
          options: (Array.isArray(options) ? options : []).map((o) => ({ text: isObject(o) ? o.text : o, voter_count: 0 })),
          total_voter_count: 0,
          is_closed: false,
          is_anonymous: body.is_anonymous === undefined ? true : isTrue(body.is_anonymous),
          type: body.type ?? 'regular',
          allows_multiple_answers: isTrue(body.allows_multiple_answers),
        };
        break;
      }
      default:
        if (body.text !== undefined) message.text = String(body.text);
    }
    if (body.caption !== undefined && body.caption !== null) message.caption = visibleText(String(body.caption), body.parse_mode);
    const entities = parseJsonish(body.entities);
    if (Array.isArray(entities)) message.entities = entities;
    const markup = parseJsonish(body.reply_markup);
    // Only inline keyboards are part of a Message; reply keyboards live in the client.
    if (isObject(markup) && 'inline_keyboard' in markup) message.reply_markup = { inline_keyboard: markup.inline_keyboard };
    signatures.set(message, {
      text: signatureOf(message.text === undefined ? undefined : body.text, body.parse_mode, body.entities),
      caption: signatureOf(body.caption, body.parse_mode, body.caption_entities),
    });
    return message;
  }

  private sendMediaGroup(body: CallBody): Json[] {
    const media = parseJsonish(body.media);
    const mediaGroupId = String(13_000_000_000_000 + this.fileSeq++);
    return (Array.isArray(media) ? media : []).map((item: unknown) => {
      const m = isObject(item) ? item : {};
      const type = typeof m.type === 'string' ? m.type : 'photo';
      const ref = typeof m.media === 'string' && m.media.startsWith('attach://') ? body[m.media.slice(9)] : m.media;
      const message = this.buildSentMessage(`send${type[0]!.toUpperCase()}${type.slice(1)}`, {
        chat_id: body.chat_id,
        [type]: ref,
        caption: m.caption,
      });
      message.media_group_id = mediaGroupId;
      return this.storeMessage(message);
    });
  }

  /**
   * Edits a stored message the way Telegram does, including its refusals:
   * editing someone else's message, and the notorious "message is not
   * modified" when nothing changes (e.g. a user taps the same button twice).
   */
  private editMessage(method: string, body: CallBody): Json {
    const messageId = Number(body.message_id);
    const existing = this.findMessage(body.chat_id, messageId);
    if (existing && isObject(existing.from) && existing.from.id !== this.botInfo.id) {
      throw badRequest("message can't be edited");
    }
    const edited: Json = existing
      ? structuredClone(existing)
      : { message_id: messageId, from: this.botUser(), chat: this.chatFor(body.chat_id), date: nowSeconds() };
    const markup = parseJsonish(body.reply_markup);
    const touchesMarkup = ['editMessageText', 'editMessageCaption', 'editMessageReplyMarkup', 'editMessageMedia'].includes(method);
    if (touchesMarkup) {
      // Omitting reply_markup in an edit removes the inline keyboard.
      if (isObject(markup) && 'inline_keyboard' in markup) edited.reply_markup = { inline_keyboard: markup.inline_keyboard };
      else delete edited.reply_markup;
    }
    const before = existing ? signatures.get(existing) : undefined;
    const after: ContentSignature = { ...(before ?? { text: null, caption: null }) };
    if (method === 'editMessageText') {
      edited.text = visibleText(String(body.text), body.parse_mode);
      const entities = parseJsonish(body.entities);
      if (Array.isArray(entities)) edited.entities = entities;
      else delete edited.entities;
      after.text = signatureOf(body.text, body.parse_mode, body.entities);
    } else if (method === 'editMessageCaption') {
      if (body.caption !== undefined) edited.caption = visibleText(String(body.caption), body.parse_mode);
      else delete edited.caption;
      after.caption = signatureOf(body.caption, body.parse_mode, body.caption_entities);
    } else if (method === 'editMessageLiveLocation') {
      edited.location = { latitude: Number(body.latitude), longitude: Number(body.longitude) };
    }
    const checkable = ['editMessageText', 'editMessageCaption', 'editMessageReplyMarkup'].includes(method);
    if (
      existing &&
      before &&
      checkable &&
      before.text === after.text &&
      before.caption === after.caption &&
      JSON.stringify(existing.reply_markup ?? null) === JSON.stringify(edited.reply_markup ?? null)
    ) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    edited.edit_date = nowSeconds();
    signatures.set(edited, after);
    return this.storeMessage(edited);
  }

  // -------------------------------------------------------------------------
  // getUpdates / webhook delivery
  // -------------------------------------------------------------------------

  /**
   * Long polling with Telegram's semantics: `offset` confirms (forgets) all
   * earlier updates, a negative offset keeps only the last -offset ones;
   * with `timeout` the request is held until an update arrives, the timeout
   * passes, the fake closes or the client goes away. A second concurrent
   * getUpdates terminates the first with 409, which is how Telegram reports
   * two bot instances polling at once.
   */
  private async getUpdates(body: CallBody, res: http.ServerResponse): Promise<void> {
    if (this.webhookState) {
      const err = new TelegramApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      this.fail(res, 'refusal', 'getUpdates', body, err);
      return;
    }
    const offset = toInt(body.offset) ?? 0;
    const limit = Math.min(100, Math.max(1, toInt(body.limit) ?? 100));
    const timeoutSeconds = Math.max(0, toInt(body.timeout) ?? 0);
    const allowed = parseJsonish(body.allowed_updates);
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.length > 0 ? (allowed as string[]) : undefined;

    if (offset > 0) this.queue = this.queue.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.queue = this.queue.slice(offset);

    for (const other of this.pollers) other.wake('conflict');

    let updates = this.takeDeliverable(limit);
    if (updates.length === 0 && timeoutSeconds > 0 && !this.closed) {
      const reason = await new Promise<string>((resolve) => {
        const poller: Poller = {
          wake: (why) => {
            clearTimeout(timer);
            res.off('close', onGone);
            this.pollers.delete(poller);
            resolve(why);
          },
        };
        const onGone = (): void => poller.wake('gone');
        const timer = setTimeout(() => poller.wake('timeout'), timeoutSeconds * 1000);
        res.on('close', onGone);
        this.pollers.add(poller);
      });
      if (reason === 'gone') return;
      if (reason === 'conflict') {
        this.conflicts++;
        const err = new TelegramApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
        this.fail(res, 'conflict', 'getUpdates', body, err);
        return;
      }
      updates = this.takeDeliverable(limit);
    }
    this.accept(res, 'getUpdates', body, updates);
  }

  /** Drops updates the bot did not ask for (as Telegram never sends them) and returns up to `limit`. */
  private takeDeliverable(limit: number): Update[] {
    this.queue = this.queue.filter((u) => {
      if (this.isAllowed(u, this.allowedUpdates)) return true;
      this.droppedUpdates.push(u);
      return false;
    });
    return this.queue.slice(0, limit);
  }

  private isAllowed(update: Update, allowed: string[] | undefined): boolean {
    const type = Object.keys(update).find((k) => k !== 'update_id') ?? '';
    return allowed ? allowed.includes(type) : !NOT_DELIVERED_BY_DEFAULT.includes(type);
  }

  private async deliverToWebhook(update: Update): Promise<void> {
    const hook = this.webhookState;
    if (!hook) {
      this.queue.push(update);
      return;
    }
    if (!this.isAllowed(update, hook.allowed_updates ?? this.allowedUpdates)) {
      this.droppedUpdates.push(update);
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (hook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = hook.secret_token;
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      this.webhookResponses.push({ update_id: update.update_id, status: response.status, body: text });
      if (!response.ok) {
        hook.last_error_date = nowSeconds();
        hook.last_error_message = `Wrong response from the webhook: ${response.status} ${response.statusText}`;
      }
    } catch (err) {
      const message = (err as Error).message;
      this.webhookResponses.push({ update_id: update.update_id, status: 0, body: '', error: message });
      hook.last_error_date = nowSeconds();
      hook.last_error_message = `Connection failed: ${message}`;
    }
  }

  // -------------------------------------------------------------------------
  // Chats, users, messages, files
  // -------------------------------------------------------------------------

  private assignUpdateId(update: Omit<Update, 'update_id'> & { update_id?: number }): Update {
    if (update.update_id === undefined) return { ...update, update_id: this.nextUpdateId++ } as Update;
    if (update.update_id >= this.nextUpdateId) this.nextUpdateId = update.update_id + 1;
    return update as Update;
  }

  private botUser(): Json {
    return { id: this.botInfo.id, is_bot: true, first_name: this.botInfo.first_name, username: this.botInfo.username };
  }

  /** Builds (and remembers) a user, so later builders and chats reuse the same names. */
  private userFor(opts: Partial<UserOptions> & { userId: number }): Json & { first_name: string } {
    const known = this.users.get(opts.userId);
    const user = {
      id: opts.userId,
      is_bot: false,
      first_name: opts.firstName ?? (known?.first_name as string | undefined) ?? `User${opts.userId}`,
      ...((opts.lastName ?? known?.last_name) !== undefined ? { last_name: opts.lastName ?? known?.last_name } : {}),
      username: opts.username ?? (known?.username as string | undefined) ?? `user${opts.userId}`,
      language_code: opts.languageCode ?? (known?.language_code as string | undefined) ?? 'en',
    };
    this.users.set(opts.userId, user);
    return user;
  }

  private chatTitles = new Map<string, string>();

  private chatFor(chatId: unknown, title?: string): Json {
    const key = String(chatId);
    if (title) this.chatTitles.set(key, title);
    if (key.startsWith('@')) {
      return { id: -1_000_000_000_000 - (hashCode(key) % 1_000_000), type: 'channel', title: key.slice(1), username: key.slice(1) };
    }
    const id = Number(chatId);
    if (id < 0) {
      const chatTitle = this.chatTitles.get(key) ?? 'Test group';
      return id < -1_000_000_000_000 ? { id, type: 'supergroup', title: chatTitle } : { id, type: 'group', title: chatTitle };
    }
    const user = this.users.get(id);
    return {
      id,
      type: 'private',
      first_name: (user?.first_name as string | undefined) ?? `User${id}`,
      ...(user?.username ? { username: user.username } : {}),
    };
  }

  /** Message ids are sequential per chat, shared by both sides, as in Telegram. */
  private nextMessageId(chatId: unknown): number {
    const key = String(chatId);
    const next = (this.messageCounters.get(key) ?? 0) + 1;
    this.messageCounters.set(key, next);
    return next;
  }

  private storeMessage<T extends Json>(message: T): T {
    const chat = message.chat as Json;
    const key = String(chat.id);
    let byId = this.messages.get(key);
    if (!byId) this.messages.set(key, (byId = new Map()));
    byId.set(Number(message.message_id), message);
    return message;
  }

  private findMessage(chatId: unknown, messageId: number): Json | undefined {
    return this.messages.get(String(chatId))?.get(messageId);
  }

  private lastBotMessage(chatId: unknown): Json | undefined {
    const byId = this.messages.get(String(chatId));
    if (!byId) return undefined;
    return [...byId.values()].filter((m) => isObject(m.from) && m.from.id === this.botInfo.id).at(-1);
  }

  private rememberMessages(update: Update): void {
    const message = (update as unknown as Json).message;
    if (isObject(message) && isObject(message.chat)) {
      this.storeMessage(message);
      const id = Number(message.message_id);
      const key = String(message.chat.id);
      if (id > (this.messageCounters.get(key) ?? 0)) this.messageCounters.set(key, id);
    }
  }

  private buildMessageUpdate(opts: UserOptions, content: Json): Update {
    const from = this.userFor(opts);
    const chatId = opts.chatId ?? opts.userId;
    const message = {
      message_id: this.nextMessageId(chatId),
      from,
      chat: this.chatFor(chatId, opts.chatTitle),
      date: nowSeconds(),
      ...content,
    };
    this.storeMessage(message);
    return this.assignUpdateId({ message } as unknown as Update);
  }

  /** A file as Telegram describes it; uploads get a fresh id and their bytes become downloadable. */
  private fileFor(value: unknown, kind: string): Json {
    let fileId: string;
    let size: number;
    if (isUploadedFile(value)) {
      fileId = `${kind}-upload-${++this.fileSeq}`;
      const bytes = uploadedBytes.get(value)!;
      this.files.set(fileId, bytes);
      size = bytes.length;
    } else if (typeof value === 'string' && /^https?:\/\//.test(value)) {
      fileId = `${kind}-url-${++this.fileSeq}`; // Telegram downloads URLs and assigns an id
      size = TINY_JPEG.length;
    } else {
      fileId = String(value);
      size = this.files.get(fileId)?.length ?? TINY_JPEG.length;
    }
    return { file_id: fileId, file_unique_id: uniqueId(fileId), file_size: size };
  }
}

// ---------------------------------------------------------------------------
// Free helpers used by the class
// ---------------------------------------------------------------------------

function readRequest(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(req: http.IncomingMessage, raw: Buffer): { body: CallBody; formEncoded: boolean } {
  if (raw.length === 0) return { body: {}, formEncoded: false };
  const type = req.headers['content-type'] ?? '';
  if (/multipart\/form-data/i.test(type)) {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
    if (!boundary) throw new Error('multipart boundary is missing');
    return { body: multipartToBody(parseMultipart(raw, boundary[1] ?? boundary[2]!)), formEncoded: true };
  }
  if (/application\/x-www-form-urlencoded/i.test(type)) {
    return { body: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))), formEncoded: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Error("can't parse JSON encoded request body");
  }
  if (!isObject(parsed)) throw new Error('request body must be a JSON object');
  return { body: parsed, formEncoded: false };
}

/** Lenient type check: multipart sends everything as strings, Telegram coerces. */
function matchesType(type: string, value: unknown): boolean {
  if (type.startsWith('Array of ')) return Array.isArray(parseJsonish(value));
  switch (type) {
    case 'Integer':
      return toInt(value) !== undefined;
    case 'Float':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
    case 'Boolean':
    case 'True':
      return typeof value === 'boolean' || value === 'true' || value === 'false' || value === 0 || value === 1;
    case 'String':
      return typeof value === 'string' || typeof value === 'number';
    case 'InputFile':
      return isUploadedFile(value) || typeof value === 'string';
    default:
      return isObject(parseJsonish(value));
  }
}

function isValidChatId(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && v !== 0;
  if (typeof v !== 'string') return false;
  return (/^-?\d+$/.test(v) && Number(v) !== 0) || /^@[A-Za-z][A-Za-z0-9_]{3,}$/.test(v);
}

function checkCommands(raw: unknown): void {
  const commands = parseJsonish(raw);
  if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON array");
  if (commands.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH');
  for (const c of commands) {
    if (!isObject(c) || typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
      throw badRequest('BOT_COMMAND_INVALID');
    }
    const description = typeof c.description === 'string' ? c.description.trim() : '';
    if (description.length < 1 || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
}

/**
 * Telegram only accepts HTTPS webhooks on ports 443/80/88/8443. Loopback
 * URLs are exempt so tests can receive webhooks on a plain local server.
 */
function checkWebhook(body: CallBody): void {
  const url = String(body.url ?? '');
  if (url !== '') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('bad webhook: invalid URL');
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    if (!loopback) {
      if (parsed.protocol !== 'https:') throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      if (parsed.port && !['443', '80', '88', '8443'].includes(parsed.port)) {
        throw badRequest('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
      }
    }
  }
  const secret = body.secret_token;
  if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
    throw badRequest('bad webhook: secret token contains unallowed characters');
  }
}

/** Calls that create a message count toward Telegram's flood limits; chat actions and drafts do not. */
function producesMessage(method: string): boolean {
  if (['sendChatAction', 'sendMessageDraft', 'sendRichMessageDraft'].includes(method)) return false;
  return method.startsWith('send') || /^(forward|copy)Messages?$/.test(method);
}

function commandsKey(body: CallBody): string {
  return JSON.stringify([parseJsonish(body.scope) ?? { type: 'default' }, body.language_code ?? '']);
}

function isTrue(v: unknown): boolean {
  return v === true || v === 'true' || v === 1 || v === '1';
}

function fileName(value: unknown, fallback: string): string {
  return isUploadedFile(value) ? value.filename : fallback;
}

function hashCode(s: string): number {
  let h = 0;
  for (const ch of s) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h;
}

function uniqueId(fileId: string): string {
  return `AQAD${hashCode(fileId).toString(36)}`;
}

/** Starts a fake Telegram Bot API on 127.0.0.1 (random port). Remember `await fake.close()`. */
export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const fake = new FakeTelegram(opts);
  await fake.listen();
  return fake;
}
