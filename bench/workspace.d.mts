/** Types of bench/workspace.mjs for the tests that build a fleet with it (test/unit/declarationReuse.test.ts). */
export interface Workspace {
  files: Map<string, string>;
  edit: { path: string; line: number; from: string; to: string };
}
export function generateWorkspace(targetLines: number): Workspace;
export function parseSize(s: string): number;
