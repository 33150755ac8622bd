// The engine's public API: the services a program (and the CLI) builds on.
export * from './builder.js';
export * from './build-cache.js';
