/**
 * The render pool's errors (pool/pool-errors.ts): each class has a code of its own, and every
 * code is in the registry (shared/errors.ts), so that whatever the pool fails with can be named
 * to a client or in a log by a stable code.
 */
import t from 'tap';
import * as poolErrors from '../pool/pool-errors.js';
import { ERRORS } from '../shared/errors.js';

t.test('one registered code per pool error class', async (t) => {
  // Every export is an error class; each takes at most one argument that a number satisfies.
  const classes = Object.entries(poolErrors) as Array<[string, new (arg: number) => Error & { code: string }]>;
  t.ok(classes.length >= 7, `${classes.length} classes`);
  const codes = new Map<string, string>();
  for (const [name, Class] of classes) {
    const err = new Class(1);
    t.ok(err instanceof Error, `${name} is an Error`);
    t.equal(err.name, name, `${name} names itself`);
    t.ok(Object.hasOwn(ERRORS, err.code), `${name}'s code ${err.code} is in shared/errors.ts`);
    t.notOk(codes.has(err.code), `${err.code} is ${name}'s alone${codes.has(err.code) ? ` (also ${codes.get(err.code)})` : ''}`);
    codes.set(err.code, name);
  }
});
