import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'test/fixtures/**',
      'helm/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-empty-object-type': [
        'error',
        { allowInterfaces: 'with-single-extends' },
      ],
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // design.md: nothing reads process.env outside the config code in libs/core. The tracing
    // bootstrap reads OpenTelemetry's standard OTEL_* variables, before any config is loaded.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'migrations/**/*.ts'],
    ignores: [
      'libs/core/src/config/**',
      'libs/core/src/telemetry/telemetry-sdk.ts',
      '**/*.spec.ts',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through AppConfig (libs/core/src/config).',
        },
      ],
    },
  },
  {
    files: ['scripts/**', 'test/**', '**/*.cjs', 'apps/api/src/migrate.ts'],
    // Tests read JSON responses freely.
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
