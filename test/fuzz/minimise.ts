/**
 * Cuts a failing input down to what still fails the same way (the same problem
 * signature): files dropped, then lines, then characters removed by delta debugging
 * (Zeller's ddmin: chunks of halving size, keeping every removal that still fails).
 * fast-check shrinks the mutation operations; this shrinks the text they produced.
 */
import { checkInput, signature, type CheckOptions, type Problem } from './check';
import type { Input } from './mutate';

/** Whether `input` still shows a problem with signature `sig`. */
export type StillFails = (input: Input) => boolean;

export function failsLike(sig: string, options: CheckOptions, onCheck?: () => void): StillFails {
  return (input) => {
    onCheck?.();
    return checkInput(input, options).problems.some((p) => signature(p) === sig);
  };
}

/** What minimising may spend: re-checks, and time (a slow input costs seconds per check). */
interface Budget {
  checks: number;
  until: number;
}

/** Removes chunks of `parts` while `test` still holds for what is left, from halves down to single parts. */
function ddmin<T>(parts: T[], test: (kept: T[]) => boolean, budget: Budget): T[] {
  let n = 2;
  const left = () => budget.checks > 0 && performance.now() < budget.until;
  while (parts.length >= 2 && left()) {
    const size = Math.ceil(parts.length / n);
    let removed = false;
    for (let i = 0; i < parts.length && left(); i += size) {
      const rest = [...parts.slice(0, i), ...parts.slice(i + size)];
      budget.checks--;
      if (test(rest)) {
        parts = rest;
        n = Math.max(n - 1, 2);
        removed = true;
        break;
      }
    }
    if (!removed) {
      if (size === 1) break;
      n = Math.min(parts.length, n * 2);
    }
  }
  if (parts.length === 1 && left()) {
    budget.checks--;
    if (test([])) return [];
  }
  return parts;
}

/** The smallest input found (within `maxChecks` re-checks and `maxMs`) that still fails like `input` does for `problem`. */
export function minimise(
  input: Input,
  problem: Problem,
  options: CheckOptions,
  maxChecks = 2000,
  onCheck?: () => void,
  maxMs = 5 * 60_000,
): Input {
  const fails = failsLike(signature(problem), options, onCheck);
  const budget = { checks: maxChecks, until: performance.now() + maxMs };
  let files = { ...input.files };
  const keepFiles = ddmin(
    Object.keys(files).sort(),
    (names) => names.length > 0 && fails({ label: input.label, files: Object.fromEntries(names.map((n) => [n, files[n]!])) }),
    budget,
  );
  files = Object.fromEntries(keepFiles.map((n) => [n, files[n]!]));
  for (const unit of ['line', 'char'] as const) {
    for (const name of Object.keys(files).sort()) {
      const parts = unit === 'line' ? files[name]!.split(/(?<=\n)/) : [...files[name]!];
      const kept = ddmin(parts, (p) => fails({ label: input.label, files: { ...files, [name]: p.join('') } }), budget);
      files = { ...files, [name]: kept.join('') };
    }
  }
  return { label: `${input.label} (minimised)`, files };
}
