import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import regexp from 'eslint-plugin-regexp';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// no-restricted-syntax selectors; where two file sets overlap, the later block repeats both
// (a rule's options are replaced, not merged, by a later block).
const ROLE_SUFFIXES =
  '{service,controller,gateway,processor,repository,adapter,guard,filter,interceptor,module,host,holder,factory,registry,resolver,tracker,hasher,metrics,catalog,sweeper,connection,server,lifecycle,limiter,store}';
const INJECTABLE_WITHOUT_ROLE = {
  selector: "Decorator[expression.callee.name='Injectable']",
  message:
    'An injectable lives in a file named <name>.<role>.ts (service, processor, repository, adapter, store…).',
};
const INLINE_ERRORS = [
  {
    selector: "NewExpression[callee.name='AppError']",
    message: 'Declare the error as a class in this lib’s *.errors.ts.',
  },
  {
    selector: "ClassDeclaration[superClass.name='AppError']",
    message: 'Declare error classes in this lib’s *.errors.ts.',
  },
];
const ERRORS_IN_ERRORS_FILES = ['libs/{conversation,llm,queue,tools,audio}/src/**/*.ts'];

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
    // A pattern that backtracks super-linearly freezes the event loop on a crafted input (a
    // guardrail check, an upload, a chat message): the whole tree must match in linear time.
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignoreSticky: true }],
      'regexp/no-misleading-capturing-group': 'error',
    },
  },
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
    // design.md: files are named <name>.<role>.ts; an injectable's file says what it is (issue 25).
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: [`**/*.${ROLE_SUFFIXES}.ts`, '**/*.spec.ts', 'apps/console/**'],
    rules: { 'no-restricted-syntax': ['error', INJECTABLE_WITHOUT_ROLE] },
  },
  {
    // Errors are declared in each lib's *.errors.ts (issue 25), where a reader finds them all.
    files: ERRORS_IN_ERRORS_FILES,
    ignores: ['**/*.errors.ts', '**/*.spec.ts'],
    rules: { 'no-restricted-syntax': ['error', ...INLINE_ERRORS] },
  },
  {
    files: ERRORS_IN_ERRORS_FILES,
    ignores: [`**/*.${ROLE_SUFFIXES}.ts`, '**/*.errors.ts', '**/*.spec.ts'],
    rules: { 'no-restricted-syntax': ['error', INJECTABLE_WITHOUT_ROLE, ...INLINE_ERRORS] },
  },
  {
    // The chat turn stays readable (issue 25): small files, short functions.
    files: ['libs/conversation/src/pipeline/**/*.ts', 'libs/conversation/src/completions/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The admin console: a React app in the browser (its own tsconfig, apps/console).
    files: ['apps/console/**/*.{ts,tsx,mts}'],
    ...reactHooks.configs.flat.recommended,
    languageOptions: { globals: globals.browser },
    rules: {
      ...reactHooks.configs.flat.recommended.rules,
      'react-hooks/exhaustive-deps': 'error',
      'no-console': 'error',
    },
  },
  {
    files: [
      'scripts/**',
      'test/**',
      '**/*.cjs',
      'apps/api/src/migrate.ts',
      'apps/api/src/keys-rotate.ts',
    ],
    // Tests read JSON responses freely.
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
