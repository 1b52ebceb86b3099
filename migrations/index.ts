import { SystemSettings1763900000000 } from './1763900000000-SystemSettings';

/**
 * Every migration, oldest first. A released migration is never edited: add a new file and
 * append it here.
 */
export const MIGRATIONS = [SystemSettings1763900000000];
