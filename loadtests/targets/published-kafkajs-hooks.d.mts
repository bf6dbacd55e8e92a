/** Node's module resolve hook, as far as the tests call it. */
export declare function resolve(
  specifier: string,
  context: object,
  nextResolve: (specifier: string, context: object) => Promise<{ url: string }>,
): Promise<{ url: string }>;
