/**
 * Sets a property named by data (a case property name from XML or JSON) as an own
 * property, whatever the name. Plain assignment of `__proto__` invokes the inherited
 * setter instead: the value was silently dropped (and the object's prototype changed).
 * Other inherited names (`constructor`, `toString`) shadow fine on assignment.
 */
export function setOwnProperty(obj: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
