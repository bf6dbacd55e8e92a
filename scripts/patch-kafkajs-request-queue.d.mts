import type { KafkajsPatch } from './patch-kafkajs-decoding.mjs';

export declare const REQUEST_QUEUE_PATCHES: readonly KafkajsPatch[];
