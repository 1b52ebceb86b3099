import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiExtraModels,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
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
  GrantDto,
  KnowledgeBaseDto,
  KnowledgeBaseGrantDto,
  KnowledgeBaseGrantListDto,
  KnowledgeBasePageDto,
  KnowledgeBaseSettingsDto,
  SearchDto,
  SearchResponseDto,
  UpdateKnowledgeBaseDto,
} from './dto/rag.dto';
import {
  KnowledgeBaseAccess,
  type KnowledgeBaseActor,
  type KnowledgeBasePermission,
} from './knowledge-bases/knowledge-base-access.service';
import {
  type KnowledgeBaseGrantView,
  KnowledgeBasesService,
  type KnowledgeBaseView,
} from './knowledge-bases/knowledge-bases.service';
import { invalid } from './rag.errors';
import { SearchService, type SearchResponse } from './search/search.service';
import { DocumentExtractionService } from './extraction/document-extraction.service';

const Id = () => new ParseUUIDPipe();

/** The access a route needs on the knowledge base, and the errors it answers without it. */
const Needs = (permission: KnowledgeBasePermission) =>
  applyDecorators(
    ApiNotFoundResponse({
      description:
        '`NOT_FOUND`: no such knowledge base in your tenant, or one you may not read (private, and neither yours nor granted to you).',
    }),
    ...(permission === 'read'
      ? []
      : [
          ApiForbiddenResponse({
            description: `\`KNOWLEDGE_BASE_FORBIDDEN\`: you may read this knowledge base but this needs ${permission} access; \`detail\` says so, and \`requiredAccess\` and \`grantedAccess\` name both.`,
          }),
        ]),
  );

/**
 * Knowledge bases of your tenant, their documents, and search over them. Each has an owner
 * (its creator), a tenant-wide `access` and per-user grants; tenant admins may do everything.
 * What you may not read is 404; what you may read but not change is 403
 * `KNOWLEDGE_BASE_FORBIDDEN`. An API key acts as its creator, and reads only without
 * `rag:write`.
 */
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
    private readonly access: KnowledgeBaseAccess,
  ) {}

  /** The caller, for knowledge base access (an API key's creator is read now). */
  private actor(): Promise<KnowledgeBaseActor> {
    return this.access.forPrincipal(this.principal.get());
  }

  @Post()
  @Authorize({ role: 'member', scope: 'rag:write' })
  @ApiOperation({
    summary:
      'Create a knowledge base, owned by you (with an API key: by the key’s creator). `access` defaults to your tenant’s default (`tenant:read` unless an admin changed it).',
  })
  @ApiOkResponse({ type: KnowledgeBaseDto })
  async create(@Body() body: CreateKnowledgeBaseDto): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.create(await this.actor(), body);
  }

  @Get()
  @ApiOperation({ summary: 'The knowledge bases you may read, newest first.' })
  @ApiOkResponse({ type: KnowledgeBasePageDto })
  async list(@Query() query: CursorQueryDto): Promise<Page<KnowledgeBaseView>> {
    return this.knowledgeBases.list(await this.actor(), query);
  }

  @Get(':id')
  @Needs('read')
  @ApiOkResponse({ type: KnowledgeBaseDto })
  async get(@Param('id', Id()) id: string): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.get(await this.actor(), id);
  }

  @Patch(':id')
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('manage')
  @ApiOperation({ summary: 'Change name, description or `access` (needs manage).' })
  @ApiOkResponse({ type: KnowledgeBaseDto })
  async update(
    @Param('id', Id()) id: string,
    @Body() body: UpdateKnowledgeBaseDto,
  ): Promise<KnowledgeBaseView> {
    return this.knowledgeBases.update(await this.actor(), id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('manage')
  @ApiOperation({
    summary: 'Delete a knowledge base with its documents and chunks (needs manage).',
  })
  @ApiNoContentResponse()
  async remove(@Param('id', Id()) id: string): Promise<void> {
    await this.knowledgeBases.remove(await this.actor(), id);
  }

  @Get(':id/grants')
  @Needs('manage')
  @ApiOperation({ summary: 'Users given access to this knowledge base (needs manage).' })
  @ApiOkResponse({ type: KnowledgeBaseGrantListDto })
  async grants(@Param('id', Id()) id: string): Promise<{ items: KnowledgeBaseGrantView[] }> {
    return { items: await this.knowledgeBases.grants(await this.actor(), id) };
  }

  @Put(':id/grants/:userId')
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('manage')
  @ApiOperation({
    summary:
      'Give a user of your tenant `read`, `write` or `manage` access, replacing any grant they had (needs manage). A user of another tenant is 404.',
  })
  @ApiOkResponse({ type: KnowledgeBaseGrantDto })
  async grant(
    @Param('id', Id()) id: string,
    @Param('userId', Id()) userId: string,
    @Body() body: GrantDto,
  ): Promise<KnowledgeBaseGrantView> {
    return this.knowledgeBases.grant(await this.actor(), id, userId, body.permission);
  }

  @Delete(':id/grants/:userId')
  @HttpCode(204)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('manage')
  @ApiOperation({
    summary:
      'Take a user’s grant away (needs manage); they keep what `access` gives everyone in the tenant.',
  })
  @ApiNoContentResponse()
  async revoke(
    @Param('id', Id()) id: string,
    @Param('userId', Id()) userId: string,
  ): Promise<void> {
    await this.knowledgeBases.revoke(await this.actor(), id, userId);
  }

  @Post(':id/documents')
  @AcceptsUploads()
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('write')
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
    const actor = await this.actor();
    // Refused before the upload is read or parsed: 404 or 403 costs nothing.
    await this.knowledgeBases.require(actor, id, 'write');
    const input = request.isMultipart()
      ? await this.fromUpload(request)
      : ((await bodyPipe.transform(request.body, {
          type: 'body',
          metatype: AddDocumentDto,
        })) as AddDocumentDto);
    const { document, duplicate } = await this.documents.add(actor, id, input);
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
  @Needs('read')
  @ApiOkResponse({ type: DocumentPageDto })
  async listDocuments(
    @Param('id', Id()) id: string,
    @Query() query: CursorQueryDto,
  ): Promise<Page<DocumentView>> {
    return this.documents.list(await this.actor(), id, query);
  }

  @Get(':id/documents/:documentId')
  @Needs('read')
  @ApiOkResponse({ type: DocumentDto })
  async getDocument(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<DocumentView> {
    return this.documents.get(await this.actor(), id, documentId);
  }

  @Delete(':id/documents/:documentId')
  @HttpCode(204)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('write')
  @ApiOperation({ summary: 'Delete a document and its chunks (needs write).' })
  @ApiNoContentResponse()
  async removeDocument(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<void> {
    await this.documents.remove(await this.actor(), id, documentId);
  }

  @Post(':id/documents/:documentId/reingest')
  @HttpCode(202)
  @Authorize({ role: 'member', scope: 'rag:write' })
  @Needs('write')
  @ApiOperation({
    summary: 'Ingest a document again (after a failure, or with new chunk settings; needs write).',
  })
  @ApiAcceptedResponse({ type: DocumentDto })
  async reingest(
    @Param('id', Id()) id: string,
    @Param('documentId', Id()) documentId: string,
  ): Promise<DocumentView> {
    return this.documents.reingest(await this.actor(), id, documentId);
  }

  @Post(':id/search')
  @HttpCode(200)
  @Needs('read')
  @ApiOperation({
    summary:
      'Search a knowledge base: hybrid (BM25 and vectors fused by reciprocal rank; the default), lexical or vector, with an optional metadata filter and MMR diversity. `mode` says what ran and `notice` why, when that is not what was asked.',
  })
  @ApiOkResponse({ type: SearchResponseDto })
  async search(@Param('id', Id()) id: string, @Body() body: SearchDto): Promise<SearchResponse> {
    const p = this.principal.get();
    return this.searcher.search(
      await this.actor(),
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

/** The tenant's defaults for knowledge bases. */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', scope: 'admin' })
@Controller('v1/admin/knowledge-base-settings')
export class KnowledgeBaseSettingsController {
  constructor(
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The `access` new knowledge bases of your tenant get when their creator gives none.',
  })
  @ApiOkResponse({ type: KnowledgeBaseSettingsDto })
  async get(): Promise<KnowledgeBaseSettingsDto> {
    return {
      defaultAccess: await this.knowledgeBases.defaultAccess(this.principal.get().tenantId),
    };
  }

  @Put()
  @ApiOperation({
    summary:
      'Set the default `access` of new knowledge bases (`private`, `tenant:read` or `tenant:write`); existing ones keep theirs.',
  })
  @ApiOkResponse({ type: KnowledgeBaseSettingsDto })
  async put(@Body() body: KnowledgeBaseSettingsDto): Promise<KnowledgeBaseSettingsDto> {
    return {
      defaultAccess: await this.knowledgeBases.setDefaultAccess(
        this.principal.get().tenantId,
        body.defaultAccess,
      ),
    };
  }
}
