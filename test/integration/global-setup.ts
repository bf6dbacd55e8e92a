/**
 * Integration tests run against a real broker: the one at KAFKA_BROKERS if it answers, else the local
 * KRaft broker that scripts/kafka/kafka.sh starts (and stops again afterwards).
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}

function reachable(broker: string): Promise<boolean> {
  const [host, port] = broker.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function kafkaScript(command: 'start' | 'stop', port: string): void {
  execFileSync('bash', ['scripts/kafka/kafka.sh', command], {
    stdio: 'inherit',
    env: { ...process.env, KAFKA_PORT: port },
  });
}

export default async function setup(project: TestProject): Promise<() => void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim());
  project.provide('kafkaBrokers', brokers);
  if (await reachable(brokers[0]!)) return () => undefined;

  const port = brokers[0]!.split(':')[1]!;
  kafkaScript('start', port);
  return () => kafkaScript('stop', port);
}
