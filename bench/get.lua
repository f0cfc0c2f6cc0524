-- wrk: GETs the path on the command line (the script argument, as post.lua's, is unused).
-- The request is built in init(): only then does wrk.path hold the command line's path.
function init(args)
  request_bytes = wrk.format("GET", nil, nil, nil)
end

function request()
  return request_bytes
end
