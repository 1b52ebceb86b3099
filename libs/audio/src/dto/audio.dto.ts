import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** A provider's voice name (espeak-ng's `en-us`, OpenAI's `alloy`…). */
export const VOICE_PATTERN = /^[A-Za-z0-9_+-]{1,64}$/;
/** A BCP 47 language tag such as `en` or `en-GB`. */
export const LANGUAGE_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export class SpeechDto {
  @ApiProperty({ description: 'What to say (at most AUDIO_MAX_TEXT_CHARS characters).' })
  @IsString()
  @MinLength(1)
  @MaxLength(100_000)
  text: string;

  @ApiPropertyOptional({
    description:
      'A voice of the provider: for the local engine an espeak-ng language name (`en`, `en-us`, `de`…); for OpenAI `alloy`, `nova`….',
  })
  @IsOptional()
  @IsString()
  @Matches(VOICE_PATTERN, {
    message: 'voice must be a voice name such as en-us or alloy',
  })
  voice?: string;

  @ApiPropertyOptional({ description: 'BCP 47 language of the text (`en`, `de`…).' })
  @IsOptional()
  @IsString()
  @Matches(LANGUAGE_PATTERN, {
    message: 'language must be a language tag such as en or en-GB',
  })
  language?: string;

  @ApiPropertyOptional({ enum: ['wav', 'mp3', 'opus'], default: 'mp3' })
  @IsOptional()
  @IsIn(['wav', 'mp3', 'opus'], { message: 'format must be wav, mp3 or opus' })
  format?: 'wav' | 'mp3' | 'opus';

  @ApiPropertyOptional({ minimum: 0.25, maximum: 4, default: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0.25)
  @Max(4)
  speed?: number;
}

export class WaitQueryDto {
  @ApiPropertyOptional({
    description:
      'Wait up to this many seconds (at most AUDIO_MAX_WAIT_SECONDS) and answer 200 with the finished job if it finishes in time.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  wait?: number;
}

export class AudioJobErrorDto {
  @ApiProperty() code: string;
  @ApiProperty() message: string;
}

export class AudioJobDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['speech', 'transcription', 'voice'] }) kind: string;
  @ApiProperty({ enum: ['queued', 'active', 'completed', 'failed'] }) status: string;
  @ApiProperty({ description: '0–100.' }) progress: number;
  @ApiProperty({ description: 'Attempts started so far.' }) attempts: number;
  @ApiProperty({ type: AudioJobErrorDto, nullable: true }) error: AudioJobErrorDto | null;
  @ApiProperty({
    type: Object,
    nullable: true,
    description:
      'transcription: {text, language, durationMs, segments?}; speech: {format, contentType, bytes, durationMs, provider, model, url, urlExpiresAt?}; voice: {transcript, reply: {messageId, content, citations…}, audio}.',
  })
  result: Record<string, unknown> | null;
  @ApiPropertyOptional() conversationId?: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the job and its audio are deleted.',
  })
  expiresAt: string | null;
}

/** The multipart form of an audio upload, for the OpenAPI document. */
export const AUDIO_UPLOAD_SCHEMA = {
  type: 'object',
  required: ['file'],
  properties: {
    file: {
      type: 'string',
      format: 'binary',
      description: 'wav, flac, mp3, ogg/opus, webm or m4a (detected from the bytes).',
    },
    language: { type: 'string', description: 'Language of the speech (`en`…).' },
    prompt: { type: 'string', description: 'Words to expect (OpenAI-compatible providers).' },
  },
};
