/** Posting to the service's webhook endpoints the way the platforms do, including the wrong ways. */

/**
 * POSTs like the platform does, with its secret header (`secretHeader`); `secret: null`
 * leaves the header out; a string body is sent as it is (malformed JSON), anything else as JSON.
 */
export function webhookPoster(url: string, secretHeader: string, defaultSecret: string) {
  return (body: unknown, secret: string | null = defaultSecret) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret !== null ? { [secretHeader]: secret } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
}
