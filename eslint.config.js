// ESLint for the PWA (dev-only; `make lint` installs it): plain ES modules in the browser,
// the service worker as a classic worker script.
import js from '@eslint/js';
import globals from 'globals';

export default [
  // Only our own code: never the virtualenv's or node_modules' bundled scripts.
  { ignores: ['.venv/**', 'node_modules/**', 'test-output/**', 'instance/**'] },
  js.configs.recommended,
  {
    files: ['pwa/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always'],
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-var': 'error',
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'all' }],
      'no-implicit-coercion': ['error', { allow: ['!!'] }],
      'no-shadow': 'error',
      'no-param-reassign': 'off',
      'object-shorthand': ['error', 'properties'],
      'prefer-template': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['pwa/sw.js'],
    languageOptions: { sourceType: 'script', globals: globals.serviceworker },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
];
