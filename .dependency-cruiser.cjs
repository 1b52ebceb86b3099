/**
 * The dependency rule of design.md, checked by `npm run lint`:
 * - apps import libs; libs never import apps; the two apps never import each other;
 * - another lib is reached only through its public surface (libs/<name>/src/index.ts);
 * - platform libs (core, database, queue) import only downwards, and know no feature;
 * - feature libs import each other in one direction only (the ALLOWED map); no cycles.
 */
const PLATFORM = ['core', 'database', 'queue'];
const ALLOWED = {
  core: [],
  database: ['core'],
  queue: ['core', 'database'],
  auth: PLATFORM,
  llm: PLATFORM,
  cost: [...PLATFORM, 'auth'],
  guardrails: [...PLATFORM, 'llm', 'auth'],
  rag: [...PLATFORM, 'llm', 'cost', 'auth'],
  // Agents' tools: run by the chat pipeline, so below conversation; may search knowledge bases.
  tools: [...PLATFORM, 'rag', 'guardrails', 'cost', 'llm', 'auth'],
  conversation: [...PLATFORM, 'tools', 'rag', 'guardrails', 'cost', 'llm', 'auth'],
  audio: [...PLATFORM, 'conversation', 'cost', 'llm', 'auth'],
};

const layerRules = Object.entries(ALLOWED).map(([lib, allowed]) => ({
  name: `layers-${lib}`,
  comment: `libs/${lib} may import only: ${allowed.join(', ') || 'nothing but itself'} (design.md)`,
  severity: 'error',
  from: { path: `^libs/${lib}/` },
  to: { path: '^libs/', pathNot: [`^libs/(${[lib, ...allowed].join('|')})/`] },
}));

module.exports = {
  forbidden: [
    {
      name: 'libs-not-apps',
      comment: 'libs never import apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-not-each-other',
      comment: 'the api and worker apps never import each other',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'console-stands-alone',
      comment:
        'the console (a browser app) talks to the api over HTTP only: it imports nothing of the server, its types come from docs/openapi.json',
      severity: 'error',
      from: { path: '^apps/console/' },
      to: { path: '^(apps/(?!console/)|libs/|migrations/|test/|scripts/)' },
    },
    {
      name: 'lib-public-surface',
      comment: 'another lib is imported only through its index.ts (@parley/<name>)',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'outside-uses-public-surface',
      comment:
        'apps, migrations and tests import a lib only through its index.ts (core also offers its tracing bootstrap, @parley/core/telemetry, which an entry file loads before anything else)',
      severity: 'error',
      from: { path: '^(apps|migrations|test)/' },
      to: {
        path: '^libs/[^/]+/',
        pathNot: ['^libs/[^/]+/src/index\\.ts$', '^libs/core/src/telemetry/index\\.ts$'],
      },
    },
    {
      name: 'libs-not-outside',
      comment: 'libs do not reach into migrations/ or test/ (the app hands migrations in)',
      severity: 'error',
      from: { path: '^libs/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(migrations|test)/' },
    },
    ...layerRules,
    {
      name: 'conversation-approvals-below-pipeline',
      comment:
        'libs/conversation: the approvals store pauses and the pipeline runs them, so approvals/ never imports pipeline/ (both use agent-steps.ts)',
      severity: 'error',
      from: { path: '^libs/conversation/src/approvals/' },
      to: { path: '^libs/conversation/src/(pipeline|completions|controllers)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test/fixtures)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
