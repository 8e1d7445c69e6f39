import { describe, expect, it } from 'vitest';
import { escapeHtml, html, SafeHtml } from '../src/html.js';

describe('html', () => {
  it('escapes every character that could open markup or close an attribute, in text and in attributes', () => {
    const hostile = `<script>alert("x")</script> ' \` &amp;`;
    const page = html`<p title="${hostile}">${hostile}</p>`.toString();
    expect(page).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39; &#96; &amp;amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39; &#96; &amp;amp;</p>');
    expect(page).not.toContain('<script>');
  });

  it('keeps markup made by html as it is, joins lists, and drops null, undefined and false', () => {
    const items = ['<a>', 'b'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.toString()).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
  });

  it('treats a string that looks like markup, or an object posing as SafeHtml, as text', () => {
    const posing = { toString: () => '<b>bold</b>' } as unknown as SafeHtml;
    expect(html`${posing}`.toString()).toBe('&lt;b&gt;bold&lt;/b&gt;');
    expect(escapeHtml('plain text')).toBe('plain text');
  });
});
