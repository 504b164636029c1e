import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const noVscode = {
  "no-restricted-imports": ["error", {
    paths: [{ name: "vscode", message: "src/core and src/protocol stay free of the editor: reach it through a port." }],
  }],
};

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
  { files: ["src/core/**/*.ts", "src/protocol/**/*.ts"], rules: noVscode },
  { files: ["webviews/**/*.ts"], languageOptions: { globals: globals.browser }, rules: noVscode },
  { files: ["src/**/*.ts", "test/**/*.ts"], languageOptions: { globals: globals.node } },
  { files: ["test/**/*.ts"], languageOptions: { globals: globals.mocha } },
  { files: ["**/*.mjs", "**/*.cjs"], languageOptions: { globals: globals.node } },
);
