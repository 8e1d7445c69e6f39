/** Markup that is safe to put in a page as it is: made only by {@link html}, never from a string. */
export class SafeHtml {
  readonly #markup: string;

  /** @internal Only `html` makes these; a string from anywhere else is escaped. */
  constructor(markup: string, _token: typeof MADE_BY_HTML) {
    this.#markup = markup;
  }

  toString(): string {
    return this.#markup;
  }
}

const MADE_BY_HTML: unique symbol = Symbol('made by html');

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text as HTML that shows it: every character that could start markup or end an attribute value is escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => ESCAPES[char]!);
}

/** What a page may interpolate: text (escaped), markup made by `html`, a list of either, or nothing. */
export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * The one way pages are written: a template whose every interpolated value is escaped, unless it
 * is markup this function made. So a ban reason or an email shows as text wherever it lands, in
 * an element or a quoted attribute; an attribute must be quoted in the template.
 *
 * @example
 * html`<p class="who">Signed in as ${user.email}</p>`;
 */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): SafeHtml {
  let markup = strings[0]!;
  for (let i = 0; i < values.length; i += 1) markup += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(markup, MADE_BY_HTML);
}
