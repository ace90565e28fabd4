import { z } from 'zod';

/**
 * Reading an OpenAPI (or AsyncAPI) document the way a client would: its operations, the one a
 * request goes to, and validators built from the document's JSON Schemas alone (converted by
 * zod's `fromJSONSchema`, not taken from the server's zod schemas), so a document that says
 * something other than what the server does fails the tests.
 */

export type Json = Record<string, any>;

/** One operation: method (lower case), path template, and the operation object. */
export interface Operation {
  method: string;
  path: string;
  op: Json;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of an OpenAPI document. */
export function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc['paths'] as Json)) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

/**
 * The operation a request goes to: `/api/stream/...` is `/stream/...`; a template's `{x}`
 * matches one path segment; a literal path wins over a template.
 */
export function findOperation(doc: Json, method: string, urlPath: string): Operation | undefined {
  const path = urlPath.split('?')[0]!.replace(/^\/api(?=\/)/, '');
  const candidates = operations(doc).filter((o) => o.method === method.toLowerCase());
  const exact = candidates.find((o) => o.path === path);
  if (exact) return exact;
  return candidates.find((o) => new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
}

/** A document's components as `$defs` of a standalone JSON Schema (`#/components/schemas/X` becomes `#/$defs/X`). */
function asDefs(value: unknown): Json {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/')) as Json;
}

/** Builds zod validators from the document's schemas (components resolved once). */
export function validatorFor(doc: Json): (schema: Json) => z.ZodType {
  const defs = asDefs(doc['components']?.['schemas'] ?? {});
  const cache = new Map<string, z.ZodType>();
  return (schema) => {
    const key = JSON.stringify(schema);
    let v = cache.get(key);
    if (!v) {
      v = z.fromJSONSchema({ ...asDefs(schema), $defs: defs } as Parameters<typeof z.fromJSONSchema>[0]);
      cache.set(key, v);
    }
    return v;
  };
}

/** The JSON request body schema of an operation, if it has one. */
export function requestSchema(op: Json): Json | undefined {
  return op['requestBody']?.['content']?.['application/json']?.['schema'];
}

/** The JSON schema of an operation's answer with `status`, if it has one. */
export function responseSchema(op: Json, status: number): Json | undefined {
  return op['responses']?.[String(status)]?.['content']?.['application/json']?.['schema'];
}

/** zod issues as short lines (`path: message`). */
export function issuesOf(result: { success: boolean; error?: z.ZodError }): string[] {
  return result.success ? [] : result.error!.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
