import type { KafkajsPatch } from './patch-kafkajs-decoding.mjs';

export declare const RECORD_PATCHES: readonly KafkajsPatch[];
