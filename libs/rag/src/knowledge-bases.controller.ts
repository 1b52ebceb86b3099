import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal } from '@parley/auth';
import { CursorQueryDto, type Page } from '@parley/core';
import type { FastifyReply } from 'fastify';
import { DocumentsService, type DocumentView } from './documents/documents.service';
import {
  AddDocumentDto,
  CreateKnowledgeBaseDto,
  DocumentDto,
  DocumentPageDto,
  KnowledgeBaseDto,
  KnowledgeBasePageDto,
  SearchDto,
  SearchResponseDto,
  UpdateKnowledgeBaseDto,
} from './dto/rag.dto';
import {
  KnowledgeBasesService,
  type KnowledgeBaseView,
} from './knowledge-bases/knowledge-bases.service';
import { SearchService, type SearchResponse } from './search/search.service';

const Id = () => new ParseUUIDPipe();

/** Knowledge bases of your tenant, their documents, and search over them. */
@ApiTags('knowledge-bases')
@Authorize({ role: 'member', scope: 'rag:read' })
@Controller('v1/knowledge-bases')
export class KnowledgeBasesController {
  constructor(
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly documents: DocumentsService,
    private readonly searcher: SearchService,
    private readonly principal: CurrentPrincipal,
  ) {}

  private get tenantId(): string {
    return this.principal.get().tenantId;
  }

  @Post()
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({ summary: 'Create a knowledge base.' })
  @ApiOkResponse({ type: KnowledgeBaseDto })
  create(@Body() body: CreateKnowledgeBaseDto): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.create(this.tenantId, body);
  }

  @Get()
  @ApiOkResponse({ type: KnowledgeBasePageDto })
  list(@Query() query: CursorQueryDto): Promise<Page<KnowledgeBaseView>> {
    return this.knowledgeBases.list(this.tenantId, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: KnowledgeBaseDto })
  get(@Param('id', Id()) id: string): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.get(this.tenantId, id);
  }

  @Patch(':id')
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOkResponse({ type: KnowledgeBaseDto })
  update(
    @Param('id', Id()) id: string,
    @Body() body: UpdateKnowledgeBaseDto,
  ): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.update(this.tenantId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({ summary: 'Delete a knowledge base with its documents and chunks.' })
  @ApiNoContentResponse()
  async remove(@Param('id', Id()) id: string): Promise<void> {
    await this.knowledgeBases.remove(this.tenantId, id);
  }

  @Post(':id/documents')
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({
    summary:
      'Add a document as JSON {title, text, metadata}: 202 with status pending while it is ingested; the same content again answers 200 with duplicate: true.',
  })
  @ApiAcceptedResponse({ type: DocumentDto })
  async addDocument(
    @Param('id', Id()) id: string,
    @Body() body: AddDocumentDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DocumentView & { duplicate: boolean }> {
    const { document, duplicate } = await this.documents.add(this.tenantId, id, body);
    reply.status(duplicate ? 200 : 202);
    return { ...document, duplicate };
  }

  @Get(':id/documents')
  @ApiOkResponse({ type: DocumentPageDto })
  listDocuments(
    @Param('id', Id()) id: string,
    @Query() query: CursorQueryDto,
  ): Promise<Page<DocumentView>> {
    return this.documents.list(this.tenantId, id, query);
  }

  @Get(':id/documents/:documentId')
  @ApiOkResponse({ type: DocumentDto })
  getDocument(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<DocumentView> {
    return this.documents.get(this.tenantId, id, documentId);
  }

  @Delete(':id/documents/:documentId')
  @HttpCode(204)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({ summary: 'Delete a document and its chunks.' })
  @ApiNoContentResponse()
  async removeDocument(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<void> {
    await this.documents.remove(this.tenantId, id, documentId);
  }

  @Post(':id/documents/:documentId/reingest')
  @HttpCode(202)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({
    summary: 'Ingest a document again (after a failure, or with new chunk settings).',
  })
  @ApiAcceptedResponse({ type: DocumentDto })
  reingest(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<DocumentView> {
    return this.documents.reingest(this.tenantId, id, documentId);
  }

  @Post(':id/search')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Search a knowledge base. Lexical (BM25) only so far: `mode` says what ran; results carry the chunk, its document and offsets.',
  })
  @ApiOkResponse({ type: SearchResponseDto })
  search(@Param('id', Id()) id: string, @Body() body: SearchDto): Promise<SearchResponse> {
    return this.searcher.search(this.tenantId, id, {
      query: body.query,
      topK: body.topK ?? 5,
      minScore: body.minScore,
    });
  }
}
