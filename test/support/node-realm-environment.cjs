// Jest's node environment gives each test file its own realm, with its own typed-array
// constructors. Native addons (onnxruntime-node, which runs the voice activity model) create
// their arrays in Node's realm, and their JavaScript side then fails its `instanceof
// Float32Array` checks. The test files that run the model use this environment (through a
// @jest-environment docblock) and share Node's typed arrays, as production code does. Only
// those: a library that patches a shared prototype would keep every test file's realm alive.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

module.exports = class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
};
