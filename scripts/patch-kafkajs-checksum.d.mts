import type { KafkajsPatch } from './patch-kafkajs-decoding.mjs';

export declare const CHECKSUM_PATCHES: readonly KafkajsPatch[];
