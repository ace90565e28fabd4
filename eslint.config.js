// ESLint flat config: typescript-eslint's recommended rules; no console in server code (log with
// pino); no `any` outside tests.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', '.tap/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['orchestrator/**/*.ts', 'workers/**/*.ts', 'shared/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The dashboard's browser modules.
    files: ['orchestrator/dashboard/ui/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Plain scripts the browser tests inject into the page.
    files: ['test/fixtures/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS test fixtures, preloaded with --require.
    files: ['test/fixtures/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
