// Go's strconv.Quote and QuoteRune, which BuildKit's AST dump (the conformance `result` format)
// and its history text use: src/go-quote.ts, outside the parser so that a module that needs
// only the quoting (the builder's instruction checks) does not load the parser.
export { goQuote, goQuoteList, goQuoteRune } from '../go-quote.js';
