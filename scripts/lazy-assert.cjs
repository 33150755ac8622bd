// Stands in for node:assert inside the CLI bundle (scripts/bundle-cli.mjs), for yargs, whose
// platform shim imports its strictEqual and notStrictEqual and calls them at every parse. Loading
// node:assert cost every command ~5 ms; the real one is loaded only when an assertion fails, and
// throws its own error.
const failed = () => require('node:assert');
exports.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) failed().strictEqual(actual, expected, message);
};
exports.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) failed().notStrictEqual(actual, expected, message);
};
