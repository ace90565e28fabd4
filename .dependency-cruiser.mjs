// dependency-cruiser: the import graph must match the layering (docs/architecture.md). Run by
// `npm run lint` (`npm run lint:deps`); a violation fails lint with the rule's name and the edge.
//
// The layers, bottom first; an arrow only points down:
//   shared/        the API contract (what a client of the API imports): imports nothing else of ours
//   media/         a video source's reader thread and the frame ring both sides share: shared/
//   pixels/        the pixel code that runs in a worker: shared/
//   pool/          both sides of the worker protocol: shared/, pixels/
//   workers/       drawing and the worker entry: shared/, pixels/, pool/
//   cli/           the `stream-manager` command line and its typed client: shared/ only (a client
//                  of the API, like any other: it knows the wire types, nothing of the server)
//   orchestrator/  the server: anything above; inside it, render/ does not reach into output/
//                  (output/ implements render/'s FrameSink), motion/ not into render/, and
//                  config/ (the base) and auth/ (may read config/) not into the other folders.
// Type-only imports count: a type is coupling too.

/** Project folders outside `keep`, as a path regex. */
const projectExcept = (...keep) => {
  const all = ['shared', 'media', 'pixels', 'pool', 'workers', 'orchestrator', 'cli', 'test', 'bench', 'scripts'];
  return `^(${all.filter((d) => !keep.includes(d)).join('|')})/`;
};

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: split out the shared part, or invert one arrow (an interface the lower side offers).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Two folders that import each other (a.ts -> b/ -> a/): one of them is not a layer of its own yet.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-imports-only-shared',
      severity: 'error',
      comment: 'shared/ is the API contract: it imports only shared/, node builtins and npm packages.',
      from: { path: '^shared/' },
      to: { path: projectExcept('shared') },
    },
    {
      name: 'media-imports-only-shared',
      comment:
        "media/ is a video source's reader thread and the frame ring protocol both threads use: it imports only shared/ and media/ (nothing of the server, the pool or the pixels).",
      severity: 'error',
      from: { path: '^media/' },
      to: { path: projectExcept('shared', 'media') },
    },
    {
      name: 'pixels-imports-only-shared',
      severity: 'error',
      comment: 'pixels/ runs in a worker: it imports only shared/ and pixels/.',
      from: { path: '^pixels/' },
      to: { path: projectExcept('shared', 'pixels') },
    },
    {
      name: 'pool-imports-only-shared-pixels',
      severity: 'error',
      comment: 'pool/ is the worker protocol, used from both sides of the thread boundary: it imports only shared/, pixels/, pool/.',
      from: { path: '^pool/' },
      to: { path: projectExcept('shared', 'pixels', 'pool') },
    },
    {
      name: 'workers-not-to-orchestrator',
      severity: 'error',
      comment: 'workers/ runs in worker threads: it imports only shared/, pixels/, pool/, workers/ (nothing of the server).',
      from: { path: '^workers/' },
      to: { path: projectExcept('shared', 'pixels', 'pool', 'workers') },
    },
    {
      name: 'cli-imports-only-shared',
      severity: 'error',
      comment: 'cli/ is a client of the API: it imports only shared/ (the wire types) and cli/, never the server.',
      from: { path: '^cli/' },
      to: { path: projectExcept('shared', 'cli') },
    },
    {
      name: 'render-not-to-output',
      severity: 'error',
      comment: 'render/ hands frames to a FrameSink; output/ implements it. render/ imports nothing from output/.',
      from: { path: '^orchestrator/render/' },
      to: { path: '^orchestrator/output/' },
    },
    {
      name: 'motion-not-to-render',
      severity: 'error',
      comment: 'motion/ (animation, scene switching) computes layer states; the render side reads them, not the other way round.',
      from: { path: '^orchestrator/motion/' },
      to: { path: '^orchestrator/render/' },
    },
    {
      name: 'audio-below-surfaces',
      severity: 'error',
      comment:
        "orchestrator/audio/ (the program's sound) reads the scene and the media sources and offers output/ a reader; it imports nothing of the render side or the server's surfaces (http/, ws/, metrics/, dashboard/).",
      from: { path: '^orchestrator/audio/' },
      to: { path: '^orchestrator/(render|http|ws|metrics|dashboard|studio)/' },
    },
    {
      name: 'config-is-a-base',
      severity: 'error',
      comment: 'config/ (env, precedence) is read by everything else in orchestrator/ and imports none of it.',
      from: { path: '^orchestrator/config/' },
      to: { path: '^orchestrator/', pathNot: '^orchestrator/config/' },
    },
    {
      name: 'auth-reads-only-config',
      severity: 'error',
      comment: 'auth/ (tokens, roles, host and origin policy) may read config/ and nothing else of orchestrator/.',
      from: { path: '^orchestrator/auth/' },
      to: { path: '^orchestrator/', pathNot: '^orchestrator/(auth|config)/' },
    },
    {
      name: 'not-to-test-or-bench',
      severity: 'error',
      comment: 'test/ and bench/ are not part of the program: only test/ and bench/ import them.',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'The image prunes devDependencies (Dockerfile: npm prune --omit=dev): the program may not load one at run time. Move it to dependencies, or import it as a type only.',
      from: { path: '^(orchestrator|pool|pixels|workers|shared|media|cli)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unlisted-package',
      severity: 'error',
      comment: 'An npm package that package.json does not list: it works only by accident of hoisting.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Our own TypeScript sources: `.js` specifiers resolve to the `.ts` files beside them.
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
