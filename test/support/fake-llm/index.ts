export { FakeLlm } from './fake-llm.server';
export type {
  Fault,
  FakeLlmOptions,
  RecordedRequest,
  ScriptedToolCall,
} from './fake-llm.scenarios';
