import { type ParseTask, runParseTask } from './document-parsers';

/** Piscina's entry point in the extraction worker thread (see DocumentExtractionService). */
export default function parse(task: ParseTask): Promise<unknown> {
  return runParseTask(task);
}
