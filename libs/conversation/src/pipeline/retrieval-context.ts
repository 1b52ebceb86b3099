import { Injectable } from '@nestjs/common';
import { AppConfig, currentSpan, Traced } from '@parley/core';
import type { CostSubject } from '@parley/cost';
import { countTextTokens, type Passage } from '@parley/llm';
import { SearchService } from '@parley/rag';
import type { Citation } from '../conversation.views';

export type { Citation };

export interface RetrievedContext {
  /** The prompt section that carries the passages (empty when there are none). */
  prompt: string;
  /** For the extractive responder. */
  passages: Passage[];
  citations: Citation[];
  /** The knowledge bases' versions, for the response cache key. */
  versions: string;
}

const NONE: RetrievedContext = { prompt: '', passages: [], citations: [], versions: '' };

/**
 * Retrieval for a chat turn: the best passages of the conversation's knowledge bases that the
 * turn's caller may read, as many whole passages as fit `rag.contextTokens`, numbered for
 * citation.
 */
@Injectable()
export class RetrievalContext {
  constructor(
    private readonly search: SearchService,
    private readonly config: AppConfig,
  ) {}

  @Traced('parley.retrieval')
  async for(
    subject: CostSubject,
    knowledgeBaseIds: string[],
    question: string,
  ): Promise<RetrievedContext> {
    if (knowledgeBaseIds.length === 0) return NONE;
    currentSpan().setAttribute('parley.retrieval.knowledge_bases', knowledgeBaseIds.length);
    // Only the knowledge bases the turn's caller may read now are searched (the rag lib checks,
    // as of this turn); the others are skipped, e.g. after the caller's grant was taken away.
    const { passages, versions, skipped } = await this.search.retrieve(
      subject,
      knowledgeBaseIds,
      question,
      this.config.rag.topK,
    );
    if (skipped.length > 0)
      currentSpan().setAttribute('parley.retrieval.knowledge_bases_skipped', skipped.length);
    const kept: typeof passages = [];
    let tokens = 0;
    for (const p of passages) {
      const cost = countTextTokens('text-embedding-3-small', p.text) + 10;
      if (tokens + cost > this.config.rag.contextTokens) break;
      kept.push(p);
      tokens += cost;
    }
    currentSpan().setAttribute('parley.retrieval.passages', kept.length);
    if (kept.length === 0) return { ...NONE, versions };
    const prompt = [
      'Answer from the passages below when they are relevant, and cite them by number, like [1]. If they do not contain the answer, say so.',
      ...kept.map((p, i) => `[${i + 1}] ${p.title}\n${p.text}`),
    ].join('\n\n');
    return {
      prompt,
      passages: kept.map((p, i) => ({ id: String(i + 1), text: p.text, source: p.title })),
      citations: kept.map((p, i) => ({
        n: i + 1,
        knowledgeBaseId: p.knowledgeBaseId,
        documentId: p.documentId,
        chunkId: p.chunkId,
        title: p.title,
        start: p.start,
        end: p.end,
        score: p.score,
      })),
      versions,
    };
  }
}

/** The citations an answer uses: those whose [n] it contains, else all it was given. */
export function citedIn(answer: string, citations: Citation[]): Citation[] {
  const used = citations.filter((c) => answer.includes(`[${c.n}]`));
  return used.length > 0 ? used : citations;
}
