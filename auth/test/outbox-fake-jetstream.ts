import { connect, type Msg } from '@nats-io/transport-node';
import { Subjects } from '@ticketing/common';

/** One publish the fake received, waiting for (or given) its acknowledgement. */
export interface ReceivedPublish {
  readonly subject: string;
  readonly msgId: string | undefined;
  /** The sending connection (its request inbox), which tells relays apart. */
  readonly sender: string;
  /** When it arrived, by `performance.now()`. */
  readonly receivedAt: number;
  acked: boolean;
  ack(): void;
}

export interface FakeJetStream {
  /** Every publish so far, in the order they arrived. */
  readonly received: ReceivedPublish[];
  /** The most publishes that were waiting for their acknowledgement at one time. */
  maxInFlight(): number;
  /** The most relays (senders) that had a publish waiting for its ack at one time. */
  maxSendersInFlight(): number;
  /** Acknowledges the publishes waiting now, and from now on every publish after `delayMs`. */
  ackAll(delayMs?: number): void;
  close(): Promise<void>;
}

/**
 * Stands in for the AUTH stream on a nats-server that has no stream on `auth.>`: it receives each
 * JetStream publish and acknowledges it only when the test says so, so a test can hold a relay
 * mid-publish for as long as it likes, and see the order and overlap of publishes from several relays.
 */
export async function startFakeJetStream(natsUrl: string): Promise<FakeJetStream> {
  // Back on a restarted server sooner than a relay (500 ms), so a publish sent again finds it listening.
  const nc = await connect({ servers: natsUrl, name: 'fake-jetstream', maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const received: ReceivedPublish[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sendersInFlight = new Map<string, number>();
  let maxSendersInFlight = 0;
  let autoAckDelayMs: number | undefined;
  let seq = 0;

  const hold = (msg: Msg): ReceivedPublish => {
    const reply = msg.reply ?? '';
    const publish: ReceivedPublish = {
      subject: msg.subject,
      msgId: msg.headers?.get('Nats-Msg-Id'),
      sender: reply.slice(0, reply.lastIndexOf('.')),
      receivedAt: performance.now(),
      acked: false,
      ack() {
        if (publish.acked) return;
        publish.acked = true;
        inFlight--;
        const left = sendersInFlight.get(publish.sender)! - 1;
        if (left === 0) sendersInFlight.delete(publish.sender);
        else sendersInFlight.set(publish.sender, left);
        msg.respond(JSON.stringify({ stream: 'AUTH', seq: ++seq }));
      },
    };
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    sendersInFlight.set(publish.sender, (sendersInFlight.get(publish.sender) ?? 0) + 1);
    maxSendersInFlight = Math.max(maxSendersInFlight, sendersInFlight.size);
    return publish;
  };

  nc.subscribe(Subjects.All, {
    callback: (err, msg) => {
      if (err) return;
      const publish = hold(msg);
      received.push(publish);
      if (autoAckDelayMs !== undefined) setTimeout(() => publish.ack(), autoAckDelayMs);
    },
  });
  await nc.flush();

  return {
    received,
    maxInFlight: () => maxInFlight,
    maxSendersInFlight: () => maxSendersInFlight,
    ackAll(delayMs = 0) {
      autoAckDelayMs = delayMs;
      for (const publish of received) publish.ack();
    },
    close: () => nc.close(),
  };
}
