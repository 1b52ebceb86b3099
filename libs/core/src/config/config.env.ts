/**
 * The environment variables that override configuration keys. This table is the single place
 * that names them; the README's configuration reference is checked against it by a test.
 * `secret: true` keys may come only from the environment (or `<NAME>_FILE`), never from YAML.
 */
export interface EnvBinding {
  env: string;
  path: string;
  secret?: boolean;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'APP_ENV', path: 'app.env' },
  { env: 'HOST', path: 'server.host' },
  { env: 'PORT', path: 'server.port' },
  { env: 'BODY_LIMIT_BYTES', path: 'server.bodyLimitBytes' },
  { env: 'TRUST_PROXY', path: 'server.trustProxy' },
  { env: 'CORS_ORIGINS', path: 'server.corsOrigins' },
  { env: 'SHUTDOWN_TIMEOUT_MS', path: 'server.shutdownTimeoutMs' },
  { env: 'DOCS_ENABLED', path: 'server.docs' },
  { env: 'LOG_LEVEL', path: 'log.level' },
  { env: 'LOG_FORMAT', path: 'log.format' },
  { env: 'DATABASE_URL', path: 'database.url', secret: true },
  { env: 'DATABASE_POOL_SIZE', path: 'database.poolSize' },
  { env: 'DATABASE_STATEMENT_TIMEOUT_MS', path: 'database.statementTimeoutMs' },
  { env: 'DATABASE_CONNECT_TIMEOUT_MS', path: 'database.connectTimeoutMs' },
  { env: 'DATABASE_SSL', path: 'database.ssl.enabled' },
  { env: 'DATABASE_SSL_REJECT_UNAUTHORIZED', path: 'database.ssl.rejectUnauthorized' },
  { env: 'DATABASE_SSL_CA', path: 'database.ssl.ca', secret: true },
  { env: 'DATABASE_MIGRATE_ON_BOOT', path: 'database.migrateOnBoot' },
  { env: 'PGLITE_DATA_DIR', path: 'database.embedded.dataDir' },
  { env: 'PGLITE_LOCK_WAIT_MS', path: 'database.embedded.lockWaitMs' },
  { env: 'REDIS_URL', path: 'redis.url', secret: true },
  { env: 'REDIS_KEY_PREFIX', path: 'redis.keyPrefix' },
  { env: 'WORKERS_IN_PROCESS', path: 'queue.workersInProcess' },
  { env: 'WORKER_QUEUES', path: 'queue.queues' },
  { env: 'WORKER_CONCURRENCY', path: 'queue.concurrency' },
  { env: 'QUEUE_POSTGRES_SCHEMA', path: 'queue.postgresSchema' },
  { env: 'WORKER_HOST', path: 'worker.host' },
  { env: 'WORKER_HEALTH_PORT', path: 'worker.healthPort' },
  { env: 'HELMET_ENABLED', path: 'security.helmet' },
  { env: 'JWT_ISSUER', path: 'security.jwt.issuer' },
  { env: 'JWT_AUDIENCE', path: 'security.jwt.audience' },
  { env: 'JWT_ACCESS_TTL_SECONDS', path: 'security.jwt.accessTtlSeconds' },
  { env: 'JWT_REFRESH_TTL_SECONDS', path: 'security.jwt.refreshTtlSeconds' },
  { env: 'JWT_SIGNING_KEYS', path: 'security.jwt.signingKeys', secret: true },
  { env: 'API_KEY_PEPPER', path: 'security.apiKeys.pepper', secret: true },
  { env: 'API_KEY_ROTATION_GRACE_SECONDS', path: 'security.apiKeys.rotationGraceSeconds' },
  { env: 'PASSWORD_HASH_MEMORY_KIB', path: 'security.passwords.memoryKiB' },
  { env: 'PASSWORD_HASH_ITERATIONS', path: 'security.passwords.iterations' },
  { env: 'PASSWORD_HASH_PARALLELISM', path: 'security.passwords.parallelism' },
  { env: 'LOGIN_MAX_FAILURES_PER_ACCOUNT', path: 'security.login.maxFailuresPerAccount' },
  { env: 'LOGIN_MAX_FAILURES_PER_IP', path: 'security.login.maxFailuresPerIp' },
  { env: 'LOGIN_FAILURE_WINDOW_SECONDS', path: 'security.login.failureWindowSeconds' },
  { env: 'LOGIN_BASE_LOCK_SECONDS', path: 'security.login.baseLockSeconds' },
  { env: 'LOGIN_MAX_LOCK_SECONDS', path: 'security.login.maxLockSeconds' },
  { env: 'BOOTSTRAP_ADMIN_EMAIL', path: 'security.bootstrap.adminEmail' },
  { env: 'BOOTSTRAP_ADMIN_PASSWORD', path: 'security.bootstrap.adminPassword', secret: true },
  { env: 'RATE_LIMIT_DEFAULT', path: 'rateLimit.default' },
  { env: 'RATE_LIMIT_AUTH', path: 'rateLimit.auth' },
  { env: 'RATE_LIMIT_CHAT', path: 'rateLimit.chat' },
  { env: 'RATE_LIMIT_AUDIO', path: 'rateLimit.audio' },
  { env: 'RATE_LIMIT_ADMIN', path: 'rateLimit.admin' },
  { env: 'LLM_BASE_URL', path: 'llm.baseUrl' },
  { env: 'LLM_API_KEY', path: 'llm.apiKey', secret: true },
  { env: 'LLM_MODEL', path: 'llm.model' },
  { env: 'EMBEDDING_MODEL', path: 'llm.embeddingModel' },
];
