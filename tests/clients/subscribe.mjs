// Subscribes with the official graphql-ws client and prints, one JSON line each, what the
// server sends: {"ready":true} once the connection is acknowledged, {"next":...} per result,
// {"error":...} / {"complete":true} at the end, {"closed":{code,reason}} if the socket closes.
// Usage: node subscribe.mjs <ws url> <query> [variables JSON] [bearer token]
// Reads stdin: a line "stop" completes the subscription and exits.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import readline from 'node:readline';

const [url, query, variables = '{}', token = ''] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
  on: {
    connected: () => print({ ready: true }),
    closed: (event) => print({ closed: { code: event.code, reason: event.reason } }),
  },
});

const stop = client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => print({ next: result }),
    error: (error) => {
      print({ error: Array.isArray(error) ? error : { message: String(error?.reason ?? error) } });
      client.dispose();
    },
    complete: () => {
      print({ complete: true });
    },
  },
);

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() === 'stop') {
    stop();
    await client.dispose();
    process.exit(0);
  }
});
