import t from 'tap';
import { z } from 'zod';
import { CALLS, type CallSpec } from '../cli/calls.js';
import { ROUTE_GROUPS, openApiDocument } from '../orchestrator/http/openapi/document.js';
import type { RouteDoc } from '../orchestrator/http/openapi/route-doc.js';
import { operations, type Json } from './helpers/openapi.js';

/**
 * The typed client of the CLI (cli/calls.ts) against the OpenAPI document: every call is an
 * operation of the document with the same name, method and path, and its body and answer types
 * come from the schemas the document's entry for it is generated from. A call marked `planned`
 * (a route a later part of issue 33 adds) must not be in the document yet.
 */

/** A schema's JSON Schema, to compare two schemas that may be different objects. */
function shape(schema: z.ZodType | null | undefined, io: 'input' | 'output'): unknown {
  if (!schema) return null;
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

t.test('every client call is the document operation of its name, with the same schemas', async (t) => {
  const doc = openApiDocument() as unknown as Json;
  const ops = operations(doc);
  const entries: RouteDoc[] = ROUTE_GROUPS.flatMap((g) => g.routes);
  let checked = 0;
  for (const [name, spec] of Object.entries(CALLS) as [string, CallSpec][]) {
    const op = ops.find((o) => o.method === spec.method.toLowerCase() && o.path === spec.path);
    if (spec.planned) {
      t.notOk(op, `${name} (${spec.method} ${spec.path}) is planned (${spec.planned}); once the document has it, take the mark off`);
      continue;
    }
    t.ok(op, `${name}: ${spec.method} ${spec.path} is in the document`);
    if (!op) continue;
    t.equal(op.op['operationId'], name, `${name}: the document's operationId`);
    const entry = entries.find((e) => e.operationId === name)!;
    const body = entry.body instanceof z.ZodType ? entry.body : undefined;
    t.ok(
      spec.body === body || JSON.stringify(shape(spec.body, 'input')) === JSON.stringify(shape(body, 'input')),
      `${name}: the body schema is the document's`,
    );
    const ok = entry.ok instanceof z.ZodType ? entry.ok : null;
    t.ok(
      spec.response === ok || JSON.stringify(shape(spec.response, 'output')) === JSON.stringify(shape(ok, 'output')),
      `${name}: the answer schema is the document's`,
    );
    checked++;
  }
  t.ok(checked >= 20, `${checked} calls checked`);
  // The comparison can fail.
  t.not(JSON.stringify(shape(CALLS.getLayer.response, 'output')), JSON.stringify(shape(CALLS.listLayers.response, 'output')));
});
