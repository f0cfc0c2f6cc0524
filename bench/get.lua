-- wrk: GETs the path on the command line (the argument is the same as post.lua's, unused).
request_bytes = wrk.format("GET", nil, nil, nil)

function request()
  return request_bytes
end
