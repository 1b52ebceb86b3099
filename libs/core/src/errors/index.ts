export * from './app-error';
export * from './core.errors';
export * from './problem-details';
export * from './problem.filter';
export * from './dependency-errors';
