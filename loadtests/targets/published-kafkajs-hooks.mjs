// Module resolution hook of targets/published-pipe.ts: every import of `kafkajs`, the bare pipe's and
// src/kafka/'s alike, resolves to `kafkajs-published` (the same release, as npm serves it), which
// streamscore's postinstall leaves unpatched. kafkajs's own modules require each other by relative paths
// and so stay inside whichever copy was loaded.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier === 'kafkajs' ? 'kafkajs-published' : specifier, context);
}
