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
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiExtraModels,
  ApiConsumes,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal } from '@parley/auth';
import {
  AcceptsUploads,
  AppConfig,
  createValidationPipe,
  CursorQueryDto,
  type Page,
} from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseMetadataField, readUpload } from './documents/document-upload';
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
import { invalid } from './rag.errors';
import { SearchService, type SearchResponse } from './search/search.service';
import { DocumentExtractionService } from './extraction/document-extraction.service';

const Id = () => new ParseUUIDPipe();

/** Knowledge bases of your tenant, their documents, and search over them. */
@ApiTags('knowledge-bases')
@ApiExtraModels(AddDocumentDto)
@Authorize({ role: 'member', scope: 'rag:read' })
@Controller('v1/knowledge-bases')
export class KnowledgeBasesController {
  constructor(
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly documents: DocumentsService,
    private readonly searcher: SearchService,
    private readonly principal: CurrentPrincipal,
    private readonly config: AppConfig,
    private readonly extraction: DocumentExtractionService,
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
  @AcceptsUploads()
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({
    summary:
      'Add a document: JSON {title, text, metadata}, or a multipart upload with a `file` part (plain text, Markdown, HTML, PDF, JSON or CSV, recognised by content, not by name) and optional `title` and `metadata` (a JSON object) fields. 202 with status pending while it is ingested; the same content again answers 200 with duplicate: true.',
  })
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(AddDocumentDto) },
        {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', format: 'binary' },
            title: { type: 'string', description: 'Defaults to the HTML/PDF title or file name.' },
            metadata: { type: 'string', description: 'A JSON object, e.g. {"source":"wiki"}.' },
          },
        },
      ],
    },
  })
  @ApiAcceptedResponse({ type: DocumentDto })
  async addDocument(
    @Param('id', Id()) id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DocumentView & { duplicate: boolean }> {
    const input = request.isMultipart()
      ? await this.fromUpload(request)
      : ((await bodyPipe.transform(request.body, {
          type: 'body',
          metatype: AddDocumentDto,
        })) as AddDocumentDto);
    const { document, duplicate } = await this.documents.add(this.tenantId, id, input);
    reply.status(duplicate ? 200 : 202);
    return { ...document, duplicate };
  }

  /** A multipart upload, its type decided by its content and its text extracted. */
  private async fromUpload(request: FastifyRequest) {
    const upload = await readUpload(request, this.config.rag.maxDocumentBytes);
    const extracted = await this.extraction.extract(upload);
    const title = [upload.fields.title, extracted.title, upload.filename]
      .map((t) => t?.trim())
      .find(Boolean);
    if (!title || title.length > 500)
      throw invalid('title', 'give a title of 1 to 500 characters (or upload a file with a name)');
    return {
      title,
      text: extracted.text,
      contentType: extracted.contentType,
      metadata: {
        ...(upload.filename ? { filename: upload.filename } : {}),
        ...parseMetadataField(upload.fields.metadata),
      },
    };
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
      'Search a knowledge base: hybrid (BM25 and vectors fused by reciprocal rank; the default), lexical or vector, with an optional metadata filter and MMR diversity. `mode` says what ran and `notice` why, when that is not what was asked.',
  })
  @ApiOkResponse({ type: SearchResponseDto })
  search(@Param('id', Id()) id: string, @Body() body: SearchDto): Promise<SearchResponse> {
    const p = this.principal.get();
    return this.searcher.search(
      { tenantId: p.tenantId, userId: p.userId, apiKeyId: p.apiKeyId },
      id,
      {
        query: body.query,
        topK: body.topK ?? 5,
        mode: body.mode,
        filter: body.filter,
        minScore: body.minScore,
        diversity: body.diversity,
      },
    );
  }
}

const bodyPipe = createValidationPipe();
