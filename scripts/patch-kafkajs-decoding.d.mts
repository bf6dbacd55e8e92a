/** One patch of an installed kafkajs file: each edit replaces the original text (first) with the second. */
export interface KafkajsPatch {
  name: string;
  file: string;
  edits: [original: string, replacement: string][];
}

export declare const DECODING_PATCHES: readonly KafkajsPatch[];
