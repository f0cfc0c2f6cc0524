// The committed SDL (api/schema.graphql) is the schema clients see: graphql-js builds a
// schema from a live server's introspection and one from the file, prints both, and they
// must be the same text (descriptions, @specifiedBy and the schema's own description
// included). Usage: node schema.mjs http://127.0.0.1:PORT/graphql path/to/schema.graphql
import { readFileSync } from 'node:fs';
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from 'graphql';

const [endpoint, committedPath] = process.argv.slice(2);
const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});
const response = await fetch(endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query }),
});
const body = await response.json();
if (!response.ok || body.errors) {
  console.error(`introspection failed (${response.status}): ${JSON.stringify(body.errors)}`);
  process.exit(1);
}
const seen = printSchema(buildClientSchema(body.data));
const committed = printSchema(buildSchema(readFileSync(committedPath, 'utf8')));
if (seen !== committed) {
  const a = seen.split('\n');
  const b = committed.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  console.error(`api/schema.graphql differs from what introspection describes, from line ${at + 1} of graphql-js's print:`);
  console.error(`  introspection: ${JSON.stringify(a.slice(at, at + 3))}`);
  console.error(`  committed:     ${JSON.stringify(b.slice(at, at + 3))}`);
  process.exit(1);
}
console.log(`schema: introspection and api/schema.graphql agree (${seen.split('\n').length} lines as graphql-js prints them)`);
