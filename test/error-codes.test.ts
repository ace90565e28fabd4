/**
 * Every error class the orchestrator throws carries a code of the one registry (shared/errors.ts),
 * and no two classes share one: a client or an operator reading `code` learns which failure it was.
 */
import t from 'tap';
import { ERRORS } from '../shared/errors.js';
import { ConfigError } from '../orchestrator/config/env.js';
import { EnvFileError } from '../orchestrator/config/dotenv.js';
import { DirNotWritableError } from '../orchestrator/config/writable-dirs.js';
import { PortUnavailableError } from '../orchestrator/startup.js';
import { LayerMemoryError } from '../orchestrator/render/layer-renderer.js';

const errors: Error[] = [
  new ConfigError([{ path: 'PORT', message: 'bad' }]),
  new EnvFileError('unreadable'),
  new DirNotWritableError('DATA_DIR', '/x', 'EACCES'),
  new PortUnavailableError('PORT', 4200, '127.0.0.1', 'EADDRINUSE'),
  new LayerMemoryError(2, 1),
];

t.test('each error class has a registered code of its own', async (t) => {
  const codes = errors.map((e) => (e as Error & { code: string }).code);
  for (const [i, code] of codes.entries()) t.ok(Object.hasOwn(ERRORS, code), `${errors[i]!.name}: ${code} is in the registry`);
  t.equal(new Set(codes).size, codes.length, `no two classes share a code: ${codes.join(', ')}`);
});

t.test('the registry has no code nothing uses', async (t) => {
  t.notOk(Object.hasOwn(ERRORS, 'SM_ERR_RENDER'), 'SM_ERR_RENDER (never thrown) is gone');
});
