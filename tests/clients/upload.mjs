// Uploads a file with Apollo Client and apollo-upload-client's UploadHttpLink (the GraphQL
// multipart request spec, as a Next.js or React frontend sends it), then reads the item back
// with an ordinary query through the same link; prints one JSON line per result:
// {"uploaded":...} or {"error":...}, then {"read":...}.
// Usage: node upload.mjs <graphql url> <bearer token> <file> <file name> <alt text>
import { readFile } from 'node:fs/promises';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';

const [uri, token, path, name, alt] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');

const client = new ApolloClient({
  link: new UploadHttpLink({ uri, headers: { authorization: `Bearer ${token}` } }),
  cache: new InMemoryCache(),
});

const file = new File([await readFile(path)], name, { type: 'application/octet-stream' });
try {
  const { data } = await client.mutate({
    mutation: gql`mutation Upload($input: UploadMediaInput!) {
      uploadMedia(input: $input) { media { id filename mimeType width height alt contentHash } }
    }`,
    variables: { input: { file, alt } },
  });
  print({ uploaded: data.uploadMedia.media });
  const { data: read } = await client.query({
    query: gql`query Item($id: ID!) { mediaItem(id: $id) { id srcset } }`,
    variables: { id: data.uploadMedia.media.id },
  });
  print({ read: read.mediaItem });
} catch (error) {
  print({ error: { message: error.message, errors: error.errors ?? null } });
}
