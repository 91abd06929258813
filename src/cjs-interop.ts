// A CommonJS package imported with import(): Node.js hands back a namespace with its named exports (and
// `default`), but in the component's esbuild bundle the same import() yields only `default`, the
// package's exports object. Callers of a lazily loaded CommonJS package (the AWS SDK, the device SDK)
// go through this so that both the npm package and the bundle see the named exports.
export function cjsExports<T extends object>(mod: T): T {
  const keys = Object.keys(mod);
  const exported = (mod as { default?: unknown }).default;
  if (keys.length === 1 && keys[0] === 'default' && exported !== null && typeof exported === 'object')
    return exported as T;
  return mod;
}
