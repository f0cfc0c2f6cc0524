// A Dermis webhook receiver: verifies each delivery (Standard Webhooks, with the
// `standardwebhooks` package from npm), ignores retries of one it already handled, and says
// which pages to revalidate. A frontend would call its own revalidation there (Next.js:
// `revalidatePath`; Astro or a CDN: purge those paths).
//
//   npm install standardwebhooks
//   DERMIS_WEBHOOK_SECRET=whsec_... PORT=4000 node webhook-receiver.mjs
//
// Then register http://HOST:4000/ as an endpoint (admin UI, Webhooks), and publish a topic.
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.DERMIS_WEBHOOK_SECRET ?? '';
const webhook = new Webhook(secret.replace(/^whsec_/, ''));
const handled = new Set(); // webhook-id is the same on every retry: keep it in your store

async function revalidate(paths) {
  // Replace with your framework's call, e.g. for (const p of paths) revalidatePath(p);
  console.log(JSON.stringify({ revalidate: paths }));
}

const server = http.createServer(async (request, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  let event;
  try {
    event = webhook.verify(body, request.headers); // throws on a bad signature or an old timestamp
  } catch (error) {
    console.log(JSON.stringify({ refused: String(error.message ?? error) }));
    response.writeHead(400).end();
    return;
  }
  const id = request.headers['webhook-id'];
  if (!handled.has(id)) {
    handled.add(id);
    console.log(JSON.stringify({ received: event.type, slug: event.data.slug }));
    await revalidate((event.data.affectedTopics ?? []).map((slug) => `/procedures/${slug}`));
  }
  response.writeHead(204).end();
});

server.listen(Number(process.env.PORT ?? 4000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(JSON.stringify({ listening: `http://${address}:${port}/` }));
});
