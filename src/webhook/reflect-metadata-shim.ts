/**
 * The few `Reflect` metadata functions tsyringe checks for and calls. `@peculiar/x509` (used
 * to generate the self-signed certificate) depends on tsyringe, which refuses to load without
 * a Reflect metadata polyfill; Latchkey has none as a dependency, so this module supplies the
 * subset used (define / get / has, own and inherited). It changes nothing when a real
 * polyfill is already installed. Import it before `@peculiar/x509`.
 */
type Key = unknown;
type Target = object;

const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<Key, unknown>>>();

function table(
  target: Target,
  property: PropertyKey | undefined,
  create: boolean,
): Map<Key, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function getOwnMetadata(key: Key, target: Target, property?: PropertyKey): unknown {
  return table(target, property, false)?.get(key);
}

function hasOwnMetadata(key: Key, target: Target, property?: PropertyKey): boolean {
  return table(target, property, false)?.has(key) ?? false;
}

function getMetadata(key: Key, target: Target, property?: PropertyKey): unknown {
  for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
    if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
  }
  return undefined;
}

function hasMetadata(key: Key, target: Target, property?: PropertyKey): boolean {
  for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
    if (hasOwnMetadata(key, t, property)) return true;
  }
  return false;
}

function defineMetadata(key: Key, value: unknown, target: Target, property?: PropertyKey): void {
  table(target, property, true)?.set(key, value);
}

function metadata(key: Key, value: unknown) {
  return (target: Target, property?: PropertyKey) => defineMetadata(key, value, target, property);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  Object.assign(reflect, {
    getMetadata,
    getOwnMetadata,
    hasMetadata,
    hasOwnMetadata,
    defineMetadata,
    metadata,
  });
}

export {};
