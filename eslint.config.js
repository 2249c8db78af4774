import neostandard from 'neostandard'

/**
 * Lint and style (`npm run lint`, part of `npm test`): neostandard, standard style for
 * TypeScript, plus a line length so that a line reads without scrolling (URLs and regular
 * expressions may run longer).
 */
export default [
  // examples/adapter-echo stays exactly as a third party wrote it against the first SDK: the
  // proof that an extension keeps working unchanged
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**', 'examples/adapter-echo/**'] }),
  {
    rules: {
      '@stylistic/max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // `void promise` marks a deliberate fire-and-forget (its errors are handled where it is made)
      'no-void': ['error', { allowAsStatement: true }],
      // a typebox schema and its Static type share one name by design (`TaskRequest`)
      '@typescript-eslint/no-redeclare': 'off',
    },
  },
]
