// ESLint flat config: typescript-eslint recommended + the project's layers (docs/DESIGN.md, "Layout").
// Dependencies point one way: api ← io ← crypto ← formats ← jobs ← service ← faces (cli,
// server, electron); libvirt sits beside jobs; the renderer reaches core/api only. Each zone
// below is proven to fire by scripts/lint-zones.test.mjs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { CORE_LAYERS, layerZone, NODE_CRYPTO_DOOR } from './scripts/lib/layers.mjs';

const TESTS = ['**/*.test.ts', 'core/testing/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', '.test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    ignores: TESTS,
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  // One zone per core layer: what it may not import (non-test files).
  ...CORE_LAYERS.map((layer) => ({
    files: [`core/${layer}/**/*.ts`],
    ignores: [...TESTS, NODE_CRYPTO_DOOR],
    rules: { 'no-restricted-imports': ['error', layerZone(layer)] },
  })),
  {
    files: ['electron/**/*.ts', 'electron/**/*.cts'],
    ignores: TESTS,
    rules: { 'no-restricted-imports': ['error', layerZone('electron')] },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: ['renderer/vite.config.ts'],
    rules: { 'no-restricted-imports': ['error', layerZone('renderer')] },
  }
);
