"""Schemathesis hooks for Dermis (loaded through SCHEMATHESIS_HOOKS).

Schemathesis' own `not_a_server_error` treats every GraphQL error with a path as a server
failure, including the deliberate, coded refusals a content API gives (BAD_USER_INPUT,
UNAUTHENTICATED, ...). This check flags what is a server failure: an HTTP 5xx, a body that
is not the GraphQL response shape, an error without `extensions.code`, or
INTERNAL_SERVER_ERROR.

`Upload` (the multipart request spec's file scalar) has no literal form: a file only comes
as a multipart part. Schemathesis is given strings for it, among them async-graphql's own
placeholder for part 0 and for a part that does not exist, which the server must refuse
with a coded error.
"""

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

schemathesis.graphql.scalar(
    "Upload",
    st.one_of(
        st.sampled_from(["#__graphql_file__:0", "#__graphql_file__:99", "#__graphql_file__:-1"]),
        st.text(max_size=40),
    ).map(nodes.String),
)


@schemathesis.check
def dermis_no_server_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"the body is not JSON: {error}") from None
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise AssertionError("the body is not a GraphQL response")
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            raise AssertionError(f"an error without a code: {error}")
        if code == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"an internal error: {error}")
    return None
