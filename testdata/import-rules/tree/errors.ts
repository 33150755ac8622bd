export class TreeError extends Error {}
