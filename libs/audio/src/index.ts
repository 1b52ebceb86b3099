export * from './audio.errors';
export * from './audio.module';
export * from './audio-jobs.module';
export * from './jobs/audio-jobs.service';
export * from './ports/audio-storage.port';
export * from './ports/speech.port';
export * from './speech-providers';
export * from './jobs/retention.processor';
