import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ValidationFailedError } from '@parley/core';

const invalidField = ValidationFailedError.field;

/** `{name}` in a tool's URL: filled from the argument of that name. */
export const URL_PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

// One Ajv instance: compiled validators are cached by schema, and `strict` catches typos such
// as `"requried"` in a tenant's schema at definition time rather than at the first call.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const cache = new Map<string, ValidateFunction>();

/** Compiles a tool's argument schema, or refuses it with Ajv's reason (400 on `parameters`). */
export function compileArgumentSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = cache.get(key);
  if (validate) return validate;
  if (schema.type !== 'object')
    throw invalidField('parameters', 'parameters must be a JSON Schema with "type": "object"');
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw invalidField(
      'parameters',
      `parameters is not a valid JSON Schema: ${(error as Error).message}`,
    );
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, validate);
  return validate;
}

/**
 * Checks a model's arguments (JSON text) against a tool's schema. Returns the parsed arguments,
 * or the problems in words the model can act on (they are sent back to it as the tool result).
 */
export function checkArguments(
  schema: Record<string, unknown>,
  argumentsJson: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(argumentsJson === '' ? '{}' : argumentsJson);
  } catch {
    return { ok: false, problems: ['the arguments are not valid JSON'] };
  }
  const validate = compileArgumentSchema(schema);
  if (validate(value)) return { ok: true, value: value as Record<string, unknown> };
  return { ok: false, problems: (validate.errors ?? []).map(describe) };
}

const describe = (e: ErrorObject) =>
  `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}${
    e.keyword === 'additionalProperties'
      ? `: ${(e.params as { additionalProperty: string }).additionalProperty}`
      : ''
  }`;
