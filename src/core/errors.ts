/**
 * A refusal the person should read: `code` is an i18n key ("cases:forbidden"), so the
 * adapter never holds text and every refusal reaches a person in their language.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly params: Record<string, unknown> = {},
  ) {
    super(code);
    this.name = 'DomainError';
  }
}
