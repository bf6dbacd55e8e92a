// Each broker connection's request queue (part of scripts/patch-kafkajs.mjs). In kafkajs 2.2.4 every
// answered request ends in scheduleCheckPendingRequests, which arms a timer even when nothing is pending;
// with no throttle in force its delay is negative, so Node runs it after 1 ms, and the timer's own check
// arms the next one. From its first response on, every connection wakes its thread once a millisecond,
// forever (tulios/kafkajs#1556, #1704; the fixes proposed upstream were never merged). A loop thread of
// the idle service spent 27 ms of CPU a second with it and 8 without, and at 1,000 events/s the wake-ups
// competed with the work (README, "At an ordinary load"). Now a check is scheduled only while requests are pending, which is the only time it can send
// anything: a request queued behind a throttle or a full in-flight window still schedules one, and an
// answered request still checks the queue at once.

export const REQUEST_QUEUE_PATCHES = [
  {
    name: 'pending requests checked only while some are pending',
    file: 'src/network/requestQueue/index.js',
    edits: [
      [
        `  scheduleCheckPendingRequests() {
`,
        `  scheduleCheckPendingRequests() {
    if (this.pending.length === 0) return
`,
      ],
    ],
  },
];
