import { Alert } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { ApiError } from '../api/client';

/** What to tell a person about a failed call: the API's problem+json `detail`. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return `The request failed: ${error.message}`;
  return 'The request failed.';
}

/** A failed call, shown where it happened. */
export function ErrorAlert({
  error,
  title = 'Something went wrong',
}: {
  error: unknown;
  title?: string;
}) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" data-testid="error">
      {errorMessage(error)}
    </Alert>
  );
}

/**
 * Puts the API's field errors (VALIDATION_FAILED `errors[]`) next to the fields they name;
 * returns whether any field of the form was named.
 */
export function applyFieldErrors<T>(
  form: UseFormReturnType<T>,
  error: unknown,
  fields: readonly string[],
): boolean {
  if (!(error instanceof ApiError)) return false;
  let applied = false;
  for (const { field, messages } of error.fieldErrors) {
    const name = field.split('.')[0] ?? field;
    if (!fields.includes(name)) continue;
    form.setFieldError(name, messages.join(' '));
    applied = true;
  }
  return applied;
}

/** The API's message for one field (VALIDATION_FAILED `errors[]`), to show next to it. */
export function fieldError(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError)) return null;
  const messages = error.fieldErrors
    .filter((e) => (e.field.split('.')[0] ?? e.field) === field)
    .flatMap((e) => e.messages);
  return messages.length > 0 ? messages.join(' ') : null;
}
