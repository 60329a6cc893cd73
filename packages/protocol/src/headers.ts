/** Incoming request headers as Node gives them: lower-case names, a value or a list of values. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** One header's value (the first when repeated), or undefined when absent or empty. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined || value === '' ? undefined : value;
}
