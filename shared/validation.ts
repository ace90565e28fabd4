import { z } from 'zod';
import { AppError } from './errors.js';

/** One failing field, as returned in `error.details` of a `SM_ERR_VALIDATION` response. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `content.style.fontSize`; empty for the whole value. */
  path: string;
  /** What was expected and what was received, in words. */
  message: string;
}

/** Turns zod issues into `{path, message}` pairs, one per failing field. */
export function formatIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Parses `value` with `schema`, throwing a `SM_ERR_VALIDATION` {@link AppError} whose message
 * names the first failing field and whose details list all of them.
 *
 * @param what a noun for the message, e.g. "layer" or "config"
 * @throws AppError SM_ERR_VALIDATION
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = formatIssues(result.error);
  const first = issues[0];
  const where = first && first.path ? ` at "${first.path}"` : '';
  throw new AppError('SM_ERR_VALIDATION', `Invalid ${what}${where}: ${first?.message ?? 'invalid'}`, issues);
}
