export const state = 'running';
