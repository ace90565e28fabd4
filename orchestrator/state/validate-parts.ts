import type { z } from 'zod';
import { formatIssues } from '../../shared/validation.js';
import type { LoadProblem } from './store.js';

/**
 * Parses one stored part with its schema. On failure returns undefined and pushes one problem
 * per failing field, naming `where` (file path or key) and the field's path after `prefix`.
 */
export function parsePart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  problems: LoadProblem[],
  prefix = '',
): z.output<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of formatIssues(result.error))
    problems.push({ where, path: [prefix, issue.path].filter(Boolean).join('.'), message: issue.message });
  return undefined;
}

/** JSON.parse that reports instead of throwing. */
export function parseJson(text: string, where: string, problems: LoadProblem[]): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    problems.push({ where, path: '', message: `Not valid JSON: ${(err as Error).message}` });
    return { ok: false };
  }
}
