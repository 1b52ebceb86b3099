import type { Provider } from '@nestjs/common';
import { AppConfig, ConfigError, ReadinessRegistry } from '@parley/core';
import { AudioStorage } from '../ports/audio-storage.port';
import { LocalAudioStorage } from './local-storage.adapter';
import { S3AudioStorage } from './s3-storage.adapter';

/** AUDIO_STORAGE=local (a directory) or s3 (a bucket); readiness checks that it answers. */
export const audioStorageProvider: Provider = {
  provide: AudioStorage,
  inject: [AppConfig, ReadinessRegistry],
  useFactory: (config: AppConfig, readiness: ReadinessRegistry): AudioStorage => {
    const { storage } = config.audio;
    let store: AudioStorage;
    if (storage.driver === 'local') store = new LocalAudioStorage(storage.dir);
    else {
      if (!storage.s3.bucket)
        throw new ConfigError(
          'audio.storage.s3.bucket (env AUDIO_S3_BUCKET)',
          'required when AUDIO_STORAGE=s3',
        );
      store = new S3AudioStorage({
        ...storage.s3,
        bucket: storage.s3.bucket,
        urlExpirySeconds: storage.urlExpirySeconds,
      });
    }
    readiness.register('audioStorage', () => store.check());
    return store;
  },
};
