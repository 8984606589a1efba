export * from './analysis';
export * from './positions';
