// Starts GraphiQL against this server's /graphql. Served as a file of its own, so the
// page's Content-Security-Policy needs no inline script.
const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
const root = ReactDOM.createRoot(document.getElementById('graphiql'));
root.render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    defaultQuery: '{\n  topic(slug: "microneedling") {\n    title\n    summary\n    conditions { note node { name } }\n  }\n}\n',
  }),
);
