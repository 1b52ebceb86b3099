/** Boot-time failures of the database layer: they stop the process with one clear line. */
export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `The embedded database at ${dataDir} is in use by another Parley process. ` +
        'Stop that process, or point PGLITE_DATA_DIR at another directory, or set DATABASE_URL.',
    );
    this.name = 'DataDirLockedError';
  }
}
