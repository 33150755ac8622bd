import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goQuote, goQuoteRune } from './quote.js';

describe("Go's quoting (strconv)", () => {
  it('Quote: escapes, printable Unicode as is, the rest as \\x, \\u', () => {
    assert.equal(goQuote('a "b" \\ \t\n\x01\x7f é \u2028'), '"a \\"b\\" \\\\ \\t\\n\\x01\\x7f é \\u2028"');
    assert.equal(goQuote("it's"), '"it\'s"');
  });

  it("QuoteRune (fmt's %q of an int): a rune literal", () => {
    assert.deepEqual([0, 3, 9, 10, 39, 65, 127, 233].map(goQuoteRune), ["'\\x00'", "'\\x03'", "'\\t'", "'\\n'", "'\\''", "'A'", "'\\x7f'", "'é'"]);
  });
});
