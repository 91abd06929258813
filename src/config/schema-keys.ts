// Which keys the config schema allows at a given path (for "unknown key (did you mean ...?)").
// Walks zod 4's schema definitions: wrappers (default, optional, pipe/preprocess, ...) are unwrapped,
// and for the discriminated `transport` union the option matching the value's `kind` is used.
import type { z } from 'zod';

interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  options?: unknown[];
  discriminator?: string;
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** Strips default/optional/nullable/pipe wrappers and picks the union option matching `value`. */
function unwrap(schema: unknown, value: unknown): unknown {
  for (let depth = 0; depth < 20; depth++) {
    const def = defOf(schema);
    if (!def) return undefined;
    if (def.type === 'object') return schema;
    if (def.innerType !== undefined) schema = def.innerType;
    else if (def.type === 'pipe') {
      // preprocess = pipe(transform, schema): the structure lives in `out`; .transform() is the reverse.
      schema = defOf(def.in)?.type === 'transform' ? def.out : def.in;
    } else if (def.type === 'union' && def.options) {
      const discriminator = def.discriminator;
      const wanted =
        discriminator && typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[discriminator]
          : undefined;
      const match = def.options.find((option) => {
        const shape = defOf(unwrap(option, undefined))?.shape;
        const literal = discriminator ? defOf(shape?.[discriminator]) : undefined;
        return (literal as { values?: unknown[] } | undefined)?.values?.includes(wanted);
      });
      if (!match) return undefined;
      schema = match;
    } else return undefined;
  }
  return undefined;
}

/** The object keys the schema allows at `path` (given the raw value there), or undefined. */
export function knownKeysAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  raw: unknown,
): string[] | undefined {
  let node: unknown = schema;
  let value = raw;
  for (const key of path) {
    const object = unwrap(node, value);
    const shape = defOf(object)?.shape;
    if (!shape) return undefined;
    node = shape[String(key)];
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[String(key)]
        : undefined;
  }
  const shape = defOf(unwrap(node, value))?.shape;
  return shape ? Object.keys(shape) : undefined;
}
