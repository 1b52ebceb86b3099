import 'reflect-metadata';
import { AUDIO_SEALED_COLUMNS } from '@parley/audio';
import { CONVERSATION_SEALED_COLUMNS } from '@parley/conversation';
import { KeyRingCipher, loadConfigOrExit, rotateKeys, runOrExit } from '@parley/core';
import { DatabaseEndpoint, dataSourceOptions } from '@parley/database';
import { TOOLS_SEALED_COLUMNS } from '@parley/tools';
import { DataSource } from 'typeorm';

/**
 * `npm run keys:rotate` re-encrypts what is stored sealed (messages, agent steps, approvals,
 * transcripts, tool secrets…) under the first key of MESSAGE_ENCRYPTION_KEYS, and encrypts
 * what was stored in clear before keys were set. In batches; run it again to resume. Keep the
 * old keys in the ring until it has finished. In embedded mode stop the server first.
 */
void runOrExit(async () => {
  const config = loadConfigOrExit();
  const cipher = new KeyRingCipher(config);
  if (!cipher.canEncrypt)
    throw new Error('MESSAGE_ENCRYPTION_KEYS is not set: there is no key to rotate to.');
  const endpoint = new DatabaseEndpoint(config);
  await endpoint.start();
  const dataSource = new DataSource(dataSourceOptions(config, endpoint.url, []));
  try {
    await dataSource.initialize();
    const columns = [
      ...CONVERSATION_SEALED_COLUMNS,
      ...AUDIO_SEALED_COLUMNS,
      ...TOOLS_SEALED_COLUMNS,
    ];
    const batchSize = Number(process.argv[2] ?? 500);
    const done = await rotateKeys((sql, params) => dataSource.query(sql, params), cipher, columns, {
      batchSize,
      onBatch: (p) =>
        console.log(`${p.table}.${p.column}: ${p.resealed} re-encrypted of ${p.examined}`),
    });
    for (const p of done)
      console.log(
        `done ${p.table}.${p.column}: ${p.resealed} re-encrypted, ${p.examined} examined`,
      );
    console.log(`every sealed value is now under key ${cipher.currentKid}`);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.onApplicationShutdown();
  }
});
