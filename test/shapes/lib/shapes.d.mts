/** A description shape that stresses an engine (test/shapes/*.mjs). */
export interface Shape {
  name: string;
  /** One line: what the shape is. */
  description: string;
  /** A description of about `chars` characters, never more. */
  generate(chars: number): string;
  /** Finding codes the analysis must contain at the size limit. */
  expect: string[];
}

export const SHAPES_DIR: string;
export function loadShapes(): Promise<Shape[]>;
export function shapeNamed(name: string): Promise<Shape>;
export const SIZE_LIMIT: number;
