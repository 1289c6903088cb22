/** Finding a button or list item by its label, the same way on every channel. */

/** A string label matches by substring (labels carry emoji and counts), a pattern by test. */
export const matches = (text: string, label: string | RegExp) => (typeof label === 'string' ? text.includes(label) : label.test(text));

/** The items of the numbered lists in a text (how Zalo and typed numbers show choices): [number, label]. */
export const numberedItems = (text: string): Array<[number, string]> => [...text.matchAll(/^(\d+)\. (.+)$/gm)].map((m) => [Number(m[1]), m[2]!]);
