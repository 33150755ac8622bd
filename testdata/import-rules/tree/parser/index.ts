export const parse = (): number => 1;
