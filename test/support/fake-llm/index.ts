export { FakeLlm } from './fake-llm.server';
export type { Fault, FakeLlmOptions, RecordedRequest } from './fake-llm.scenarios';
