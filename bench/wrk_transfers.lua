-- wrk script: transfers of 1 between random wallets h1..hN of asset HB,
-- each with its own Idempotency-Key. Used by bench/walletd.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  wallets = tonumber(args[1] or "10000")
  run = args[2] or tostring(os.time())
  token = args[3] or "bench"
  math.randomseed(os.time() * 1000 + id)
  counter = 0
end

request = function()
  counter = counter + 1
  local a = math.random(1, wallets)
  local b = (a - 1 + math.random(1, wallets - 1)) % wallets + 1
  local body = string.format('{"from":"h%d","to":"h%d","asset":"HB","amount":"1"}', a, b)
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("wrk-%s-%d-%d", run, id, counter),
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/v1/transfers", headers, body)
end
