export const format = (value: unknown): string => JSON.stringify(value);
