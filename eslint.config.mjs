import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// The layers, by path: core and protocol know neither the editor nor the adapters; adapters know
// no editor; features use the editor but get every adapter from extension.ts (the composition
// root) and know no command line; webviews know only the protocol; the command line knows no editor.
const VSCODE = { name: "vscode", message: "only src/features, src/platform and src/extension.ts use the editor: reach it through a port." };
// `paths`: the editor is forbidden unless a layer says otherwise (features are its face).
const layer = (forbidden, message, paths = [VSCODE]) => ({
  "no-restricted-imports": ["error", { paths, patterns: forbidden.length ? [{ group: forbidden, message }] : [] }],
});

export default tseslint.config(
  { ignores: ["dist/**", "out/**", ".cache/**", ".vscode-test/**", "node_modules/**", "screenshots/**"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  { files: ["src/core/**/*.ts", "src/protocol/**/*.ts"], rules: layer(["**/adapters/**", "**/features/**", "**/platform/**", "**/cli/**", "**/extension"], "the core holds the behaviour and imports no adapter or face; pass what it needs in as a port.") },
  { files: ["src/features/**/*.ts"], rules: layer(["**/adapters/**", "**/cli/**"], "features get their adapters passed in from src/extension.ts (the one composition root); take a port or a factory in your deps.", []) },
  { files: ["src/adapters/**/*.ts"], rules: layer(["**/features/**", "**/platform/**", "**/cli/**", "**/extension"], "adapters implement the core's ports and know no face.") },
  { files: ["src/cli/**/*.ts"], rules: layer(["**/features/**", "**/platform/**", "**/extension"], "the command line is a face of its own over the core and adapters.") },
  { files: ["src/engine/**/*.ts"], rules: layer(["**/features/**", "**/platform/**", "**/cli/**", "**/extension"], "the engine is a composition root of its own over the core and adapters; faces reach it through src/protocol/engine.ts.") },
  { files: ["webviews/**/*.ts"], languageOptions: { globals: globals.browser }, rules: layer(["**/src/core/**", "**/src/adapters/**", "**/src/features/**", "**/src/platform/**", "**/src/cli/**"], "webviews import only src/protocol (and webviews/shared).") },
  // One command edge (src/platform/command.ts): trust, errors and results are handled in one place.
  {
    files: ["src/features/**/*.ts", "src/extension.ts"],
    rules: { "no-restricted-syntax": ["error", { selector: "CallExpression[callee.property.name='registerCommand'][callee.object.property.name='commands']", message: "register commands with registerRedgreenCommand (src/platform/command.ts)." }] },
  },
  // Small functions with names that explain them.
  { files: ["src/**/*.ts", "webviews/**/*.ts"], rules: { "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }] } },
  { files: ["src/**/*.ts", "test/**/*.ts"], languageOptions: { globals: globals.node } },
  { files: ["test/**/*.ts"], languageOptions: { globals: globals.mocha } },
  { files: ["**/*.mjs", "**/*.cjs"], languageOptions: { globals: globals.node } },
);
