// Stands in for the string-width package inside the CLI bundle (scripts/bundle-cli.mjs). yargs
// and cliui only measure strings when they render help, but string-width builds an
// Intl.Segmenter and Unicode-property regexes as soon as it is loaded: some 25 ms of every
// command. The real package is loaded (from node_modules, outside the bundle) on first use.
let width;
module.exports = function stringWidth(text, options) {
  width ??= require('string-width');
  return (width.default ?? width)(text, options);
};
