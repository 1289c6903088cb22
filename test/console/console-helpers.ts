/** Signing in to the web console through the bot, and requests with its cookie, for the console tests. */
import { expect } from 'vitest';
import type { TestApp } from '../helpers/test-app.js';

/** The one-time link in the bot's answer to /console. */
export function linkIn(text: string): string {
  const link = /https?:\/\/\S+\/console\/login\?t=[A-Za-z0-9_-]{43}/.exec(text)?.[0];
  if (!link) throw new Error(`no console link in: ${text}`);
  return link;
}

/** The link's path on the test server (links say localhost; the test server listens on 127.0.0.1). */
export const onServer = (t: TestApp, link: string) => t.baseUrl + new URL(link).pathname + new URL(link).search;

export interface ConsoleBrowser {
  cookie: string;
  get(path: string): Promise<{ status: number; html: string; headers: Headers }>;
  post(path: string, form: Record<string, string>): Promise<{ status: number; html: string; headers: Headers; location: string | null }>;
  /** The CSRF token in a page's forms. */
  csrfOf(html: string): string;
}

/** Opens a sign-in link and presses its button (the POST spends the token); returns the session's client. */
export async function openLink(t: TestApp, link: string, userAgent = 'console-test'): Promise<ConsoleBrowser> {
  const res = await signInWith(t, link, userAgent);
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = /console_session=([^;]+)/.exec(setCookie)?.[1];
  if (!cookie) throw new Error(`no session cookie: ${setCookie}`);
  return consoleBrowser(t, cookie);
}

/** GET the link (the page with the button), then POST its form as the browser would. */
export async function signInWith(t: TestApp, link: string, userAgent = 'console-test'): Promise<Response> {
  const page = await fetch(onServer(t, link), { redirect: 'manual', headers: { 'user-agent': userAgent } });
  expect(page.status).toBe(200);
  expect(page.headers.get('set-cookie')).toBeNull();
  const html = await page.text();
  const token = /<form method="post" action="\/console\/login"><input type="hidden" name="t" value="([A-Za-z0-9_-]{43})">/.exec(html)?.[1];
  if (!token) throw new Error(`no sign-in form: ${html.slice(0, 300)}`);
  return fetch(`${t.baseUrl}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'user-agent': userAgent, 'content-type': 'application/x-www-form-urlencoded', origin: t.baseUrl },
    body: new URLSearchParams({ t: token }).toString(),
  });
}

export function consoleBrowser(t: TestApp, cookie: string): ConsoleBrowser {
  const headers = () => ({ cookie: `console_session=${cookie}` });
  return {
    cookie,
    async get(path) {
      const res = await fetch(t.baseUrl + path, { headers: headers(), redirect: 'manual' });
      return { status: res.status, html: await res.text(), headers: res.headers };
    },
    async post(path, form) {
      const res = await fetch(t.baseUrl + path, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded', origin: t.baseUrl },
        body: new URLSearchParams(form).toString(),
        redirect: 'manual',
      });
      return { status: res.status, html: await res.text(), headers: res.headers, location: res.headers.get('location') };
    },
    csrfOf(html) {
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
      if (!csrf) throw new Error('no CSRF field in the page');
      return csrf;
    },
  };
}

/** Case references on a queue page, in order. */
export const refsOnPage = (html: string) => [...html.matchAll(/<a href="\/console\/cases\/[^"]+">(PA-[A-Z0-9]+)<\/a>/g)].map((m) => m[1]!);
