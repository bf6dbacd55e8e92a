/**
 * streamscore patches kafkajs's per-connection request queue (scripts/patch-kafkajs-request-queue.mjs) so
 * that an answered request no longer leaves a 1 ms timer rearming itself forever. What the queue is for
 * must hold as before: a request held back by a throttle or a full in-flight window is still sent.
 */
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REQUEST_QUEUE_PATCHES } from '../../scripts/patch-kafkajs-request-queue.mjs';
import { firstLineOf, loadOriginal, patchMarker } from './support/kafkajs-original.js';

const require = createRequire(import.meta.url);
const [patch] = REQUEST_QUEUE_PATCHES;

interface RequestQueue {
  push(request: {
    entry: { correlationId: number; resolve(): void; reject(error: unknown): void };
    expectResponse: boolean;
    sendRequest(): void;
  }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(milliseconds: number): void;
}
type RequestQueueClass = new (options: Record<string, unknown>) => RequestQueue;

const silentLogger = { debug: () => undefined, warn: () => undefined };
const queueOf = (Queue: RequestQueueClass, maxInFlightRequests: number | null = null) =>
  new Queue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    // The request-timeout interval is a timer of its own; off, the counts below are the pending check's.
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silentLogger,
  });

/** Pushes a request; the returned list records the correlation ids the queue has written to the socket. */
function pushRequest(queue: RequestQueue, correlationId: number, written: number[]): void {
  queue.push({
    entry: { correlationId, resolve: () => undefined, reject: () => undefined },
    expectResponse: true,
    sendRequest: () => written.push(correlationId),
  });
}

const answer = (queue: RequestQueue, correlationId: number) =>
  queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });

const Patched = require(`kafkajs/${patch!.file}`) as RequestQueueClass;
const Original = loadOriginal(patch!) as RequestQueueClass;

describe('kafkajs request queue, as installed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the patched file', () => {
    expect(firstLineOf(patch!.file)).toBe(patchMarker(patch!.name));
  });

  it('leaves no timer behind once a request is answered and nothing is pending', () => {
    const queue = queueOf(Patched);
    const written: number[] = [];
    pushRequest(queue, 1, written);
    answer(queue, 1);
    expect(written).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('where the original kept a timer rearming itself every millisecond', () => {
    const queue = queueOf(Original);
    pushRequest(queue, 1, []);
    answer(queue, 1);
    const checks = vi.spyOn(queue as unknown as { checkPendingRequests(): void }, 'checkPendingRequests');
    vi.advanceTimersByTime(50);
    expect(checks.mock.calls.length).toBeGreaterThanOrEqual(45);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('sends a request held back by a throttle once the throttle ends, and then stops checking', () => {
    const queue = queueOf(Patched);
    const written: number[] = [];
    queue.maybeThrottle(50);
    pushRequest(queue, 1, written);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(written).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a request held back by a full in-flight window when an answer frees a place', () => {
    const queue = queueOf(Patched, 1);
    const written: number[] = [];
    pushRequest(queue, 1, written);
    pushRequest(queue, 2, written);
    expect(written).toEqual([1]);
    answer(queue, 1);
    expect(written).toEqual([1, 2]);
    answer(queue, 2);
    // The check armed while request 2 waited runs once more, finds nothing pending and arms no other.
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
