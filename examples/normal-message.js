// Send and receive a normal message with the official RocketMQ 5 Node.js client against a local
// Apogee cluster: `npm start` in one terminal, then `node examples/normal-message.js`.
const { Producer, SimpleConsumer } = require('rocketmq-client-nodejs');

const endpoints = process.env.APOGEE_ENDPOINTS ?? '127.0.0.1:8081';
// The client logs to a file by default; a console-free logger keeps this example's output short.
const logger = { info() {}, warn() {}, error: console.error, debug() {} };

async function main() {
  const producer = new Producer({ endpoints, namespace: '', sslEnabled: false, logger });
  await producer.startup();
  const receipt = await producer.send({
    topic: 'example-orders', // auto-created by the local cluster on first use
    tag: 'created',
    keys: ['order-1'],
    properties: new Map([['region', 'eu']]),
    body: Buffer.from('hello from apogee'),
  });
  console.log('sent', receipt.messageId);

  const consumer = new SimpleConsumer({
    consumerGroup: 'example-group',
    endpoints,
    namespace: '',
    sslEnabled: false,
    logger,
    subscriptions: new Map([['example-orders', '*']]),
    awaitDuration: 5000,
  });
  await consumer.startup();
  for (const message of await consumer.receive(16, 30_000)) {
    console.log('received', message.messageId, message.tag, message.body.toString(), 'attempt', message.deliveryAttempt);
    await consumer.ack(message);
  }
  await consumer.shutdown();
  await producer.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
